using System.Globalization;
using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Inference;
using Microsoft.Extensions.Hosting;

namespace EdgeAgent.Daemon.Hosting;

/// <summary>
/// <c>--print</c>: one line per inference and per event on standard output, for running in the foreground
/// (the demo). Subscribed at construction so that nothing between start and the first window is missed.
/// </summary>
internal sealed class ConsoleReporterService(Broadcast<InferenceRecord> records, EventHub events) : BackgroundService
{
    private readonly Broadcast<InferenceRecord>.Subscription _records = records.Subscribe("console", 64);
    private readonly Broadcast<DaemonEvent>.Subscription _events = events.Stream.Subscribe("console", 64);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var output = Console.Out;
        var printEvents = PrintEvents(output, stoppingToken);
        try
        {
            await foreach (var r in _records.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"infer #{r.Sequence,-6} {r.WindowEnd:HH:mm:ss.fff}  {r.StableLabel,-14} {r.SmoothedScore:0.00}  (raw {r.RawClass} {r.RawScore:0.00}, {r.LatencyMs:0.000} ms, model {r.ModelVersion})"));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await printEvents.ConfigureAwait(false);
    }

    private async Task PrintEvents(TextWriter output, CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var e in _events.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
                output.WriteLine($"event  {e.Time:HH:mm:ss.fff}  {e.Kind}: {e.Message}");
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override void Dispose()
    {
        _records.Dispose();
        _events.Dispose();
        base.Dispose();
    }
}
