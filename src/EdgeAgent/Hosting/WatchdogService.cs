using EdgeAgent.Daemon.Models;
using EdgeAgent.Daemon.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Hosting;

/// <summary>
/// Pings systemd's watchdog (WATCHDOG=1) at half the configured <c>WatchdogSec</c>, but only while the
/// inference loop shows signs of life: a loop stuck in a kernel or a deadlock stops the pings and systemd
/// restarts the service. Also keeps systemd's STATUS= line current, from the pipeline's counters rather than the full
/// status (which reads /proc, the GC's settings and the reservoir's files): a tick costs only its short line.
/// </summary>
internal sealed class WatchdogService(
    ISystemdNotifier notifier, PipelineMetrics metrics, WindowQueue windows, ModelHost models, TimeProvider time, ILogger<WatchdogService> logger)
    : BackgroundService
{
    /// <summary>The watchdog timeout systemd asked for, or null when the watchdog is off or meant for another process.</summary>
    public static TimeSpan? WatchdogTimeout()
    {
        string? usec = Environment.GetEnvironmentVariable("WATCHDOG_USEC");
        string? pid = Environment.GetEnvironmentVariable("WATCHDOG_PID");
        if (pid is { Length: > 0 } && pid != Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)) return null;
        return long.TryParse(usec, out long microseconds) && microseconds > 0 ? TimeSpan.FromMicroseconds(microseconds) : null;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!notifier.IsEnabled) return;
        var timeout = WatchdogTimeout();
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
            notifier.Notify(new ServiceState(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"STATUS={served?.Stored.Name ?? models.ModelName} {served?.Stored.Version}: {rate:0.#} inferences/s, {inferences} total, health {health}")));
            if (timeout is null) continue;
            if (metrics.IsAlive(time, timeout.Value / 2, windows.Reader.Count)) notifier.Notify(new ServiceState("WATCHDOG=1"));
            else Log.WatchdogWithheld(logger, Math.Max(time.GetElapsedTime(metrics.SamplerHeartbeat).TotalSeconds, time.GetElapsedTime(metrics.InferenceHeartbeat).TotalSeconds));
        }
    }
}
