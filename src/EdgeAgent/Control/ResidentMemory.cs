using System.Buffers.Text;
using Microsoft.Win32.SafeHandles;

namespace EdgeAgent.Daemon.Control;

/// <summary>
/// The process's resident set (what <see cref="Environment.WorkingSet"/> reports) read from <c>/proc/self/statm</c>
/// into a stack buffer. <see cref="Environment.WorkingSet"/> builds a <c>Process</c> object and parses
/// <c>/proc/self/stat</c> into strings, ~3 KB of allocation per call, and the periodic status asks every minute.
/// </summary>
public static class ResidentMemory
{
    // Opened once and read from offset 0 each time (procfs regenerates the text on every read at 0): a handle per call
    // was a SafeFileHandle object each minute.
    private static SafeFileHandle? s_statm;

    public static long Bytes()
    {
        try
        {
            var handle = s_statm;
            if (handle is null)
            {
                var opened = File.OpenHandle("/proc/self/statm");
                handle = Interlocked.CompareExchange(ref s_statm, opened, null) ?? opened;
                if (!ReferenceEquals(handle, opened)) opened.Dispose();
            }
            Span<byte> text = stackalloc byte[160];
            text = text[..RandomAccess.Read(handle, text, 0)];
            // "size resident shared text lib data dt", in pages.
            int space = text.IndexOf((byte)' ');
            if (space > 0 && Utf8Parser.TryParse(text[(space + 1)..], out long pages, out _) && pages > 0)
                return pages * Environment.SystemPageSize;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
        }
        return Environment.WorkingSet; // no procfs: the runtime's own way
    }
}
