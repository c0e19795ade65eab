namespace EdgeAgent.Compression.IO;

/// <summary>
/// Writes a file so that readers see either the old content or the complete new content, never a
/// partial file: the data goes to a temporary file in the same directory, is flushed to disk, and is
/// then renamed over the target. A failure removes the temporary file.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> data, UnixFileMode? mode = null)
    {
        var copy = data.ToArray();
        Write(path, stream => stream.Write(copy), mode);
    }

    public static void WriteAllText(string path, string text, UnixFileMode? mode = null) =>
        WriteAllBytes(path, System.Text.Encoding.UTF8.GetBytes(text), mode);

    /// <summary>Runs <paramref name="write"/> against a temporary file and renames it to <paramref name="path"/> on success.</summary>
    public static void Write(string path, Action<Stream> write, UnixFileMode? mode = null)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"{path}: directory '{directory}' does not exist");
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Guid.NewGuid():N}.tmp");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        // The mode is set at creation so a private key is never readable by others, not even briefly.
        if (mode is { } m && !OperatingSystem.IsWindows()) options.UnixCreateMode = m;
        try
        {
            using (var stream = new FileStream(temp, options))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
    }
}
