using EdgeAgent.Daemon.Hosting;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Reservoir;

/// <summary>
/// The reservoir's writer loop. On stop it drains the queue and checkpoints the database within the host's
/// shutdown timeout, so a SIGTERM loses nothing that was sampled.
/// </summary>
internal sealed class ReservoirService(IReservoir reservoir, ILogger<ReservoirService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (reservoir is not LiteDbReservoir db) return;
        await Task.Yield();
        await db.RunWriterAsync(stoppingToken).ConfigureAwait(false);
        var stats = db.GetStats();
        db.Dispose();
        Log.ReservoirFlushed(logger, stats.Unlabelled + stats.Labelled);
    }
}
