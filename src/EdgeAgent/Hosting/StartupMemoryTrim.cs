using System.Runtime;
using System.Runtime.InteropServices;
using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Hosting;

/// <summary>
/// Gives back what start-up needed and the steady state does not, a few seconds after the first inference and after
/// every model activation: (1) one compacting collection of every generation including the large-object heap, where
/// loading a bundle leaves its file, its decompressed model and its verification reads (megabytes for a 1 MB model)
/// that the GC would otherwise keep committed as fragmentation; (2) <c>madvise(MADV_PAGEOUT)</c> on the process's
/// read-only file mappings (the binary's code and data, libcrypto, ...): start-up runs code the steady state never
/// runs again (configuration binding, dependency injection, bundle verification, model planning, the broker's
/// set-up), and the kernel keeps every page it touched, plus its fault-around neighbours, resident. Paging them out
/// drops only pages this process alone maps and that are clean; what the steady state runs comes back on first use
/// from the page cache, so the resident size that follows is the steady state's working set. On kernels before 5.4
/// (no MADV_PAGEOUT) or under emulators the advice is refused or ignored and only the collection happens.
/// </summary>
internal sealed partial class StartupMemoryTrim(PipelineMetrics metrics, EventHub events, TimeProvider time, ILogger<StartupMemoryTrim> logger) : BackgroundService
{
    /// <summary>Delay after the first inference (and after an activation): the broker connection, the first telemetry and status are done.</summary>
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(5);

    private const int MadvPageout = 21;
    private readonly Broadcast<DaemonEvent>.Subscription _events = events.Stream.Subscribe("memory-trim", 16);

    /// <summary>How many trims ran, and the resident bytes before and after the last one (for the status and tests).</summary>
    public int Trims { get; private set; }
    public long ResidentBeforeBytes { get; private set; }
    public long ResidentAfterBytes { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (metrics.FirstInferenceTimestamp <= 0) await Task.Delay(TimeSpan.FromMilliseconds(250), time, stoppingToken).ConfigureAwait(false);
            await Task.Delay(Settle, time, stoppingToken).ConfigureAwait(false);
            while (_events.Reader.TryRead(out _)) { } // the start-up's own activation is covered by this trim
            Trim();
            using var stop = _events.CompleteOn(stoppingToken); // a wait without a token reuses one waiter
            while (await _events.Reader.WaitToReadAsync().ConfigureAwait(false))
            {
                bool activated = false;
                while (_events.Reader.TryRead(out var e)) activated |= e.Kind == "model.activated";
                if (!activated) continue;
                await Task.Delay(Settle, time, stoppingToken).ConfigureAwait(false);
                Trim();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Runs the collection and the page-out now; returns the bytes of file mappings advised.</summary>
    public long Trim()
    {
        long before = Environment.WorkingSet;
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        long advised = 0, refused = 0;
        foreach (var (start, length) in ReadOnlyFileMappings())
        {
            if (madvise(start, length, MadvPageout) == 0) advised += (long)length;
            else refused += (long)length;
        }
        long after = Environment.WorkingSet;
        Trims++;
        ResidentBeforeBytes = before;
        ResidentAfterBytes = after;
        LogTrimmed(logger, before / 1048576.0, after / 1048576.0, advised / 1048576.0, refused > 0 ? $" ({refused / 1048576.0:F1} MB refused: {Marshal.GetLastPInvokeErrorMessage()})" : "");
        return advised;
    }

    /// <summary>The mappings of /proc/self/maps backed by a file and not writable (code, read-only data).</summary>
    internal static List<(nint Start, nuint Length)> ReadOnlyFileMappings()
    {
        var mappings = new List<(nint, nuint)>();
        string[] lines;
        try
        {
            lines = File.ReadAllLines("/proc/self/maps");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return mappings;
        }
        foreach (string line in lines)
        {
            // address perms offset dev inode path: "55c4-55c5 r-xp 0001c000 fe:00 12288002 /usr/bin/edgeagent"
            var fields = line.Split(' ', 6, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 6 || !fields[5].StartsWith('/') || fields[1].Contains('w')) continue;
            int dash = fields[0].IndexOf('-');
            if (dash < 0) continue;
            ulong start = Convert.ToUInt64(fields[0][..dash], 16), end = Convert.ToUInt64(fields[0][(dash + 1)..], 16);
            if (end > start) mappings.Add(((nint)start, (nuint)(end - start)));
        }
        return mappings;
    }

    [LibraryImport("libc", EntryPoint = "madvise", SetLastError = true)]
    private static partial int madvise(nint address, nuint length, int advice);

    [LoggerMessage(14, LogLevel.Information, "Released start-up memory: resident {Before:F1} MB -> {After:F1} MB ({Advised:F1} MB of read-only file mappings paged out{Refused})")]
    private static partial void LogTrimmed(ILogger logger, double before, double after, double advised, string refused);

    public override void Dispose()
    {
        _events.Dispose();
        base.Dispose();
    }
}
