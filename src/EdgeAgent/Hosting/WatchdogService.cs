using EdgeAgent.Daemon.Models;
using EdgeAgent.Daemon.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Hosting;

/// <summary>
/// Pings systemd's watchdog (WATCHDOG=1) at half the configured <c>WatchdogSec</c>, but only while the
/// inference loop shows signs of life: a loop stuck in a kernel or a deadlock stops the pings and systemd
/// restarts the service. Also keeps systemd's STATUS= line current, from the pipeline's counters rather than the full
/// status (which reads /proc, the GC's settings and the reservoir's files). A tick allocates nothing: the line is
/// written as UTF-8 into a reused buffer and sent over one socket kept open (<see cref="SystemdNotifySocket"/>).
/// </summary>
internal sealed class WatchdogService(
    PipelineMetrics metrics, WindowQueue windows, ModelHost models, TimeProvider time, ILogger<WatchdogService> logger)
    : BackgroundService
{
    private static ReadOnlySpan<byte> WatchdogPing => "WATCHDOG=1"u8;

    /// <summary>The watchdog timeout systemd asked for, or null when the watchdog is off or meant for another process.</summary>
    public static TimeSpan? WatchdogTimeout()
    {
        string? usec = Environment.GetEnvironmentVariable("WATCHDOG_USEC");
        string? pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (pid is { Length: > 0 } && pid != Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)) return null;
        return long.TryParse(usec, out long microseconds) && microseconds > 0 ? TimeSpan.FromMicroseconds(microseconds) : null;
    }

    /// <summary>systemd's STATUS= line for a tick, as UTF-8 into <paramref name="destination"/>; false when it does not fit.</summary>
    /// <remarks>Piece by piece rather than through an interpolated string: its generic steps box the numbers until the
    /// JIT has optimised them, and this runs for the daemon's whole life.</remarks>
    internal static bool TryFormatStatus(Span<byte> destination, string model, string? version, double rate, long inferences, string health, out int written)
    {
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        written = 0;
        int n;
        if (!Put(destination, ref written, "STATUS="u8) || !PutText(destination, ref written, model) || !Put(destination, ref written, " "u8) ||
            !PutText(destination, ref written, version ?? "") || !Put(destination, ref written, ": "u8))
            return false;
        if (!rate.TryFormat(destination[written..], out n, "F1", invariant)) return false;
        written += n;
        if (!Put(destination, ref written, " inferences/s, "u8)) return false;
        if (!inferences.TryFormat(destination[written..], out n, default, invariant)) return false;
        written += n;
        return Put(destination, ref written, " total, health "u8) && PutText(destination, ref written, health);

        static bool Put(Span<byte> destination, ref int at, ReadOnlySpan<byte> bytes)
        {
            if (!bytes.TryCopyTo(destination[at..])) return false;
            at += bytes.Length;
            return true;
        }

        static bool PutText(Span<byte> destination, ref int at, string text)
        {
            if (!System.Text.Encoding.UTF8.TryGetBytes(text, destination[at..], out int count)) return false;
            at += count;
            return true;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var notify = SystemdNotifySocket.FromEnvironment();
        if (notify is null) return;
        var timeout = WatchdogTimeout();
        var line = new byte[256];
        var interval = timeout is { } t ? TimeSpan.FromTicks(Math.Max(t.Ticks / 2, TimeSpan.FromMilliseconds(100).Ticks)) : TimeSpan.FromSeconds(5);
        using var timer = new PeriodicTimer(interval, time);
        long lastInferences = metrics.Inferences, lastTick = time.GetTimestamp();
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            long inferences = metrics.Inferences, now = time.GetTimestamp();
            double rate = (inferences - lastInferences) / Math.Max(1e-3, time.GetElapsedTime(lastTick, now).TotalSeconds);
            (lastInferences, lastTick) = (inferences, now);
            var served = models.Current;
            string health = served is null ? "failed" : metrics.DroppedWindows > 0 || metrics.DroppedSamples > 0 ? "degraded" : "ok";
            int length;
            while (!TryFormatStatus(line, served?.Stored.Name ?? models.ModelName, served?.Stored.Version, rate, inferences, health, out length))
                line = new byte[line.Length * 2]; // a model name longer than the line so far
            notify.TrySend(line.AsSpan(0, length));
            if (timeout is null) continue;
            if (metrics.IsAlive(time, timeout.Value / 2, windows.Reader.Count)) notify.TrySend(WatchdogPing);
            else Log.WatchdogWithheld(logger, Math.Max(time.GetElapsedTime(metrics.SamplerHeartbeat).TotalSeconds, time.GetElapsedTime(metrics.InferenceHeartbeat).TotalSeconds));
        }
    }
}
