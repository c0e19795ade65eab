using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Pipeline;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Hosting;

/// <summary>
/// Pings systemd's watchdog (WATCHDOG=1) at half the configured <c>WatchdogSec</c>, but only while the
/// inference loop shows signs of life: a loop stuck in a kernel or a deadlock stops the pings and systemd
/// restarts the service. Also keeps systemd's STATUS= line current.
/// </summary>
internal sealed class WatchdogService(
    ISystemdNotifier notifier, PipelineMetrics metrics, WindowQueue windows, IStatusProvider status, TimeProvider time, ILogger<WatchdogService> logger)
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
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            var snapshot = status.GetStatus();
            notifier.Notify(new ServiceState(
                $"STATUS={snapshot.ModelName} {snapshot.ModelVersion}: {snapshot.InferenceRateHz:0.#} inferences/s, {snapshot.Inferences} total, health {snapshot.Health}"));
            if (timeout is null) continue;
            if (metrics.IsAlive(time, timeout.Value / 2, windows.Reader.Count)) notifier.Notify(new ServiceState("WATCHDOG=1"));
            else Log.WatchdogWithheld(logger, Math.Max(time.GetElapsedTime(metrics.SamplerHeartbeat).TotalSeconds, time.GetElapsedTime(metrics.InferenceHeartbeat).TotalSeconds));
        }
    }
}
