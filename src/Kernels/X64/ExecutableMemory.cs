using System.Runtime.InteropServices;

namespace EdgeAgent.Kernels.X64;

/// <summary>
/// Generated machine code placed in pages of its own: mapped read+write, the code copied in, then flipped to
/// read+execute (never writable and executable at once). Kept for the life of the process. Where the system
/// forbids executable anonymous memory (SELinux <c>execmem</c>, PaX MPROTECT, systemd's <c>MemoryDenyWriteExecute</c>)
/// creation fails with the reason and the caller runs without the generated kernels.
/// </summary>
internal static unsafe partial class ExecutableMemory
{
    private const int ProtRead = 1, ProtWrite = 2, ProtExec = 4;
    private const int MapPrivate = 0x02, MapAnonymous = 0x20;

    /// <summary>Copies <paramref name="code"/> to new executable pages; null and a reason when the system refuses.</summary>
    public static byte* TryCreate(ReadOnlySpan<byte> code, out string? error)
    {
        error = null;
        if (!OperatingSystem.IsLinux())
        {
            error = "generated code needs Linux mmap/mprotect";
            return null;
        }
        nuint size = (nuint)((code.Length + 4095) & ~4095);
        nint p = Mmap(0, size, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        if (p == -1)
        {
            error = $"mmap of {size} bytes failed (errno {Marshal.GetLastPInvokeError()})";
            return null;
        }
        code.CopyTo(new Span<byte>((void*)p, code.Length));
        if (Mprotect(p, size, ProtRead | ProtExec) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            Munmap(p, size);
            error = $"mprotect to read+execute failed (errno {errno}{Why(errno)})";
            return null;
        }
        return (byte*)p;
    }

    /// <summary>What usually stands behind an errno of mprotect(PROT_EXEC) on Linux.</summary>
    internal static string Why(int errno) => errno switch
    {
        1 => ", EPERM: a seccomp filter forbids executable memory, e.g. systemd's MemoryDenyWriteExecute=yes as in deploy/systemd/edgeagent.service",
        13 => ", EACCES: executable memory is forbidden here: SELinux execmem, PaX, or PR_SET_MDWE (newer systemd's MemoryDenyWriteExecute=yes)",
        _ => "",
    };

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect", SetLastError = true)]
    private static partial int Mprotect(nint addr, nuint length, int prot);

    [LibraryImport("libc", EntryPoint = "munmap", SetLastError = true)]
    private static partial int Munmap(nint addr, nuint length);
}
