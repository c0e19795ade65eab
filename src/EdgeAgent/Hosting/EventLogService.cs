using EdgeAgent.Daemon.Control;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Hosting;

/// <summary>Writes every daemon event to the log (the journal under systemd).</summary>
internal sealed class EventLogService(EventHub events, ILogger<EventLogService> logger) : BackgroundService
{
    private readonly Broadcast<DaemonEvent>.Subscription _subscription = events.Stream.Subscribe("log", 256);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            // Waits without a token (see Broadcast.Subscription.CompleteOn): no waiter object per event; what was
            // queued when the daemon stops is still logged.
            using var stop = _subscription.CompleteOn(stoppingToken);
            await foreach (var e in _subscription.Reader.ReadAllAsync().ConfigureAwait(false))
                Log.Event(logger, e.Kind, e.Message);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override void Dispose()
    {
        _subscription.Dispose();
        base.Dispose();
    }
}
