using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>
/// Inference results and metrics arrive at sensor rate; the broker gets one batch per interval at most. The buffer
/// between is bounded and drops the oldest sample when full, counting it, so a slow broker never slows inference
/// (<see cref="Post"/> never blocks) and never grows memory.
/// </summary>
public sealed class TelemetryBatcher
{
    private readonly EventPublisher _publisher;
    private readonly string _topic;
    private readonly TimeSpan _interval;
    private readonly int _batchMax;
    private readonly Channel<JsonObject> _buffer;
    private long _dropped, _sentBatches;

    public TelemetryBatcher(EventPublisher publisher, string topic, TimeSpan interval, int batchMax)
    {
        _publisher = publisher;
        _topic = topic;
        _interval = interval;
        _batchMax = batchMax;
        _buffer = Channel.CreateBounded<JsonObject>(new BoundedChannelOptions(batchMax * 4) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
    }

    public long Dropped => Interlocked.Read(ref _dropped);
    public long SentBatches => Interlocked.Read(ref _sentBatches);

    public void Post(JsonObject sample) => _buffer.Writer.TryWrite(sample);

    public async Task RunAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
                await FlushAsync(stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested) { }
    }

    /// <summary>Sends what is buffered as one message <c>{"ts", "dropped", "items": [...]}</c>; nothing when empty.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var items = new JsonArray();
        while (items.Count < _batchMax && _buffer.Reader.TryRead(out var sample)) items.Add((JsonNode)sample);
        if (items.Count == 0) return;
        var batch = new JsonObject
        {
            ["ts"] = DateTimeOffset.UtcNow.ToString("O"),
            ["dropped"] = Dropped,
            ["items"] = items,
        };
        await _publisher.SendAsync(_topic, System.Text.Encoding.UTF8.GetBytes(batch.ToJsonString()), cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _sentBatches);
    }
}
