using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>
/// The retained <c>edgeagent/{d}/status</c>: the device's own status plus what the control plane knows (online,
/// protocol, transfer, outbox). Republished on every connect, on model changes and periodically; the connection's
/// last will replaces it with <c>{"online": false}</c> when the device drops off. Written straight to UTF-8 into one
/// reused buffer (the periodic publish runs for the daemon's whole life); <see cref="Snapshot"/> reads the same bytes
/// back for the status command, so both say the same thing in the same form.
/// </summary>
public sealed class StatusPublisher
{
    private readonly MqttConnection _connection;
    private readonly IDeviceControl _device;
    private readonly Func<JsonObject?> _transfer;
    private readonly Func<Outbox> _outbox;
    private readonly Func<long> _telemetryDropped;
    // One periodic or on-connect publish at a time: the buffer is published from in place.
    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Utf8JsonWriter _json;

    public StatusPublisher(MqttConnection connection, IDeviceControl device, Func<JsonObject?> transfer, Func<Outbox> outbox, Func<long> telemetryDropped)
    {
        _connection = connection;
        _device = device;
        _transfer = transfer;
        _outbox = outbox;
        _telemetryDropped = telemetryDropped;
        _json = new Utf8JsonWriter(_buffer);
    }

    /// <summary>The status as an object (the status command): written into its own buffer, so it never waits on a publish.</summary>
    public JsonObject Snapshot()
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer)) Write(writer);
        return JsonNode.Parse(buffer.WrittenSpan)!.AsObject();
    }

    public async Task<bool> PublishAsync(CancellationToken cancellationToken = default)
    {
        await _writing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _buffer.ResetWrittenCount();
            _json.Reset(_buffer);
            Write(_json);
            // Lent, not handed over: the broker keeps a retained message, so the connection gives it its own copy.
            return await _connection.PublishAsync(_connection.Topics.Status, _buffer.WrittenMemory, qos: 1, retain: true, cancellationToken: cancellationToken)
                .ConfigureAwait(false);
        }
        finally
        {
            _writing.Release();
        }
    }

    private void Write(Utf8JsonWriter json)
    {
        json.WriteStartObject();
        _device.WriteStatus(json, _connection.Topics.DeviceId);
        json.WriteBoolean("online", true);
        json.WriteString("protocol", _connection.Protocol);
        json.WriteNumber("reconnects", _connection.Reconnects);
        json.WritePropertyName("transfer");
        if (_transfer() is { } transfer) transfer.WriteTo(json);
        else json.WriteNullValue();
        var box = _outbox();
        json.WriteStartObject("outbox");
        json.WriteNumber("queued", box.Count);
        json.WriteNumber("dropped", box.Dropped);
        json.WriteNumber("capacity", box.Capacity);
        json.WriteEndObject();
        json.WriteNumber("telemetry_dropped", _telemetryDropped());
        json.WriteEndObject();
        json.Flush();
    }

    public async Task RunAsync(TimeSpan interval, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
                await PublishAsync(stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested) { }
    }
}
