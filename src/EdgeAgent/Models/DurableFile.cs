using System.Runtime.InteropServices;
using System.Text;

namespace EdgeAgent.Daemon.Models;

/// <summary>
/// Crash-safe file replacement: write a temporary file beside the target, fsync it, rename it over the
/// target, fsync the directory. After a power cut or <c>kill -9</c> the target holds either the old or the
/// new content, never a mix; the directory fsync makes the rename itself durable.
/// </summary>
internal static partial class DurableFile
{
    public static void WriteAllText(string path, string text) => WriteAllBytes(path, Encoding.UTF8.GetBytes(text));

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        string temporary = TemporaryName(path);
        using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
        FsyncDirectory(directory);
    }

    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/> (a new file) and fsyncs it.</summary>
    public static void CopyAndSync(string source, string destination)
    {
        using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        input.CopyTo(output);
        output.Flush(flushToDisk: true);
    }

    /// <summary>True for names <see cref="WriteAllBytes"/> leaves behind when killed before its rename.</summary>
    public static bool IsTemporary(string fileName) => fileName.Contains(".tmp-", StringComparison.Ordinal);

    private static string TemporaryName(string path) =>
        $"{path}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";

    /// <summary>fsync(2) on a directory, which .NET's file APIs cannot open; a no-op off Unix.</summary>
    public static void FsyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        int fd = Open(directory, ORdOnly | ODirectory);
        if (fd < 0)
            throw new IOException($"cannot open directory '{directory}' to fsync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0)
                throw new IOException($"fsync of directory '{directory}' failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    private const int ORdOnly = 0;
    // O_DIRECTORY differs between architectures: 0x10000 on x86-64, 0x4000 on arm64 Linux.
    private static int ODirectory => RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x4000 : 0x10000;

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
