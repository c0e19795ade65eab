using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using EdgeAgent.Daemon.Inference;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>
/// Inference results and metrics arrive at sensor rate; the broker gets one batch per interval at most. The buffer
/// between is bounded and drops the oldest sample when full, counting it, so a slow broker never slows inference
/// (<see cref="Post(in InferenceRecord)"/> never blocks) and never grows memory. Inference records wait as structs
/// and are written straight into one reused UTF-8 buffer at flush time, which is published from in place (the outbox
/// copies it only while offline): a batch costs no payload array, whatever its size.
/// </summary>
public sealed class TelemetryBatcher
{
    private readonly EventPublisher _publisher;
    private readonly string _topic;
    private readonly TimeSpan _interval;
    private readonly int _batchMax;
    private readonly Channel<Item> _buffer;
    // One flush at a time (the periodic one, the final one at stop): the buffer is published from in place.
    private readonly SemaphoreSlim _flushing = new(1, 1);
    private readonly ArrayBufferWriter<byte> _payload = new(4096);
    private readonly Utf8JsonWriter _json;
    private long _dropped, _sentBatches;

    public TelemetryBatcher(EventPublisher publisher, string topic, TimeSpan interval, int batchMax)
    {
        _publisher = publisher;
        _topic = topic;
        _interval = interval;
        _batchMax = batchMax;
        _json = new Utf8JsonWriter(_payload);
        _buffer = Channel.CreateBounded<Item>(new BoundedChannelOptions(batchMax * 4) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            _ => Interlocked.Increment(ref _dropped));
    }

    public long Dropped => Interlocked.Read(ref _dropped);
    public long SentBatches => Interlocked.Read(ref _sentBatches);

    public void Post(JsonObject sample) => _buffer.Writer.TryWrite(new Item(sample, default));

    public void Post(in InferenceRecord record) => _buffer.Writer.TryWrite(new Item(null, record));

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
        await _flushing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!Serialize()) return;
            await _publisher.SendAsync(_topic, _payload.WrittenMemory, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _sentBatches);
        }
        finally
        {
            _flushing.Release();
        }
    }

    /// <summary>Writes what is buffered into the payload buffer (under <c>_flushing</c>); false when there is nothing.</summary>
    private bool Serialize()
    {
        if (!_buffer.Reader.TryPeek(out _)) return false;
        _payload.ResetWrittenCount();
        _json.Reset(_payload);
        _json.WriteStartObject();
        _json.WriteString("ts", DateTimeOffset.UtcNow);
        _json.WriteNumber("dropped", Dropped);
        _json.WriteStartArray("items");
        for (int n = 0; n < _batchMax && _buffer.Reader.TryRead(out var item); n++)
        {
            if (item.Json is { } json) json.WriteTo(_json);
            else item.Record.WriteJson(_json);
        }
        _json.WriteEndArray();
        _json.WriteEndObject();
        _json.Flush();
        return true;
    }

    private readonly record struct Item(JsonObject? Json, InferenceRecord Record);
}
