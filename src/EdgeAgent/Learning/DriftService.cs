using EdgeAgent.Daemon.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Learning;

/// <summary>
/// Runs <see cref="DriftMonitor.CheckQuietly"/> every <c>learning:driftIntervalSeconds</c>, off the inference thread:
/// fitting the reference and measuring PSI sort and allocate, which the inference loop must not.
/// </summary>
internal sealed partial class DriftService(DriftMonitor monitor, LearningOptions options, TimeProvider time, ILogger<DriftService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(options.DriftIntervalSeconds), time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    monitor.CheckQuietly();
                }
                catch (ArgumentException e)
                {
                    // Drift is advisory: a failed check is logged, inference and learning go on.
                    CheckFailed(logger, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Drift check failed: {Reason}")]
    private static partial void CheckFailed(ILogger logger, string reason);
}
