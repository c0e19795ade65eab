using System.Globalization;
using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Inference;
using EdgeAgent.Daemon.Models;
using EdgeAgent.Daemon.Pipeline;
using Microsoft.Extensions.Hosting;

namespace EdgeAgent.Daemon.Hosting;

/// <summary>
/// <c>--print</c>: live inferences and every event on standard output, for running in the foreground (the demo),
/// then a summary when the daemon stops. A line per window would scroll eight lines a second past the reader, so
/// an inference is printed when the stable class changes and otherwise once a second, with how many windows it
/// stands for. Subscribed at construction so that nothing between start and the first window is missed.
/// </summary>
internal sealed class ConsoleReporterService(
    Broadcast<InferenceRecord> records, EventHub events, PipelineMetrics metrics, BrokerTraffic traffic, BrokerEndpoint broker,
    ModelHost models, TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan PrintInterval = TimeSpan.FromSeconds(1);

    private readonly Broadcast<InferenceRecord>.Subscription _records = records.Subscribe("console", 64);
    private readonly Broadcast<DaemonEvent>.Subscription _events = events.Stream.Subscribe("console", 64);
    private readonly InferenceTally _tally = new();
    private readonly Dictionary<string, int> _eventKinds = new(StringComparer.Ordinal);
    private readonly long _started = time.GetTimestamp();
    private readonly object _gate = new();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var output = Console.Out;
        var printEvents = PrintEvents(output, stoppingToken);
        long lastPrinted = 0;
        long unprinted = 0;
        string? lastStable = null;
        using var stop = _records.CompleteOn(stoppingToken);
        try
        {
            await foreach (var r in _records.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                lock (_gate) _tally.Add(r);
                unprinted++;
                long now = time.GetTimestamp();
                bool changed = !string.Equals(r.StableLabel, lastStable, StringComparison.Ordinal);
                if (!changed && lastPrinted != 0 && time.GetElapsedTime(lastPrinted, now) < PrintInterval) continue;
                WriteInference(output, r, unprinted);
                lastPrinted = now;
                lastStable = r.StableLabel;
                unprinted = 0;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await printEvents.ConfigureAwait(false);
    }

    // The line is formatted into a reused buffer: printing costs no string per line (the live view runs for days
    // in the foreground of a demo, and it is part of what the daemon benchmark measures).
    private char[] _line = new char[256];

    private void WriteInference(TextWriter output, in InferenceRecord r, long unprinted)
    {
        var inv = CultureInfo.InvariantCulture;
        while (true)
        {
            var line = _line.AsSpan();
            bool fits = r.RawLabel is { } raw
                ? line.TryWrite(inv, $"infer #{r.Sequence,-6} {r.WindowEnd:HH:mm:ss.fff}  {r.StableLabel,-14} {r.SmoothedScore:0.00}   raw {raw,-14} {r.RawScore:0.00}  {r.LatencyMs,8:0.000} ms  model {r.ModelVersion}", out int written)
                : line.TryWrite(inv, $"infer #{r.Sequence,-6} {r.WindowEnd:HH:mm:ss.fff}  {r.StableLabel,-14} {r.SmoothedScore:0.00}   raw #{r.RawClass,-13} {r.RawScore:0.00}  {r.LatencyMs,8:0.000} ms  model {r.ModelVersion}", out written);
            if (fits && unprinted > 1)
            {
                fits = line[written..].TryWrite(inv, $"  ({unprinted} windows since the last line)", out int more);
                written += more;
            }
            if (fits)
            {
                output.WriteLine(line[..written]);
                return;
            }
            _line = new char[_line.Length * 2]; // long class names or version: grows once
        }
    }

    private async Task PrintEvents(TextWriter output, CancellationToken stoppingToken)
    {
        try
        {
            using var stop = _events.CompleteOn(stoppingToken); // a wait without a token reuses one waiter
            await foreach (var e in _events.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                lock (_gate) _eventKinds[e.Kind] = _eventKinds.GetValueOrDefault(e.Kind) + 1;
                output.WriteLine($"event  {e.Time:HH:mm:ss.fff}  {e.Kind}: {e.Message}");
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate) PrintSummary(Console.Out);
    }

    private void PrintSummary(TextWriter output)
    {
        var inv = CultureInfo.InvariantCulture;
        double seconds = time.GetElapsedTime(_started).TotalSeconds;
        var served = models.Current;
        string model = served is null ? "none loaded" : $"{served.Stored.Name} {served.Stored.Version}";
        output.WriteLine(string.Create(inv, $"summary: ran {seconds:0.0} s; model {model}; kernel path {StatusProvider.KernelPathName()}"));
        output.WriteLine(string.Create(inv,
            $"summary: inferences  {_tally.Count} ({(seconds > 0 ? _tally.Count / seconds : 0):0.0}/s); windows dropped {metrics.DroppedWindows}, samples dropped {metrics.DroppedSamples}"));
        if (_tally.Count > 0)
        {
            output.WriteLine(string.Create(inv,
                $"summary: latency     mean {_tally.MeanLatencyMs:0.000} ms, p50 {_tally.LatencyQuantileMs(0.5):0.000} ms, p99 {_tally.LatencyQuantileMs(0.99):0.000} ms, max {_tally.MaxLatencyMs:0.000} ms"));
            output.WriteLine($"summary: classes     {_tally.StableClasses} (stable, after smoothing; {_tally.StableChanges} change{(_tally.StableChanges == 1 ? "" : "s")})");
            output.WriteLine($"summary: raw classes {_tally.RawClasses} (argmax of each window)");
        }
        output.WriteLine(_eventKinds.Count == 0
            ? "summary: events      none"
            : $"summary: events      {_eventKinds.Values.Sum()} ({string.Join(", ", _eventKinds.Select(kv => $"{kv.Key} {kv.Value}"))})");
        if (!broker.Embedded)
        {
            output.WriteLine($"summary: published   to {broker.Host}:{broker.Port} (an external broker: ask it for its counts)");
            return;
        }
        var topics = traffic.Snapshot();
        if (topics.Count == 0) output.WriteLine($"summary: published   nothing reached the embedded broker on 127.0.0.1:{broker.Port}");
        foreach (var (topic, messages, bytes) in topics)
            output.WriteLine(string.Create(inv, $"summary: published   {topic}: {messages} message{(messages == 1 ? "" : "s")}, {bytes} bytes"));
    }

    public override void Dispose()
    {
        _records.Dispose();
        _events.Dispose();
        base.Dispose();
    }
}
