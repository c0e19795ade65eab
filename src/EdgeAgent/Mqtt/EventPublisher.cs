using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>
/// Sends telemetry batches and events, falling back to the <see cref="Outbox"/> while offline, and drains the outbox
/// (before anything new, so order is kept) whenever the connection comes back.
/// </summary>
public sealed class EventPublisher
{
    private readonly MqttConnection _connection;
    private readonly Outbox _outbox;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _sending = new(1, 1);

    public EventPublisher(MqttConnection connection, Outbox outbox, ILogger logger)
    {
        _connection = connection;
        _outbox = outbox;
        _logger = logger;
        connection.Connected += async _ => await DrainAsync(CancellationToken.None).ConfigureAwait(false);
    }

    public Outbox Outbox => _outbox;

    /// <summary>An event: <c>{"type", "device", "ts", ...fields}</c> on <c>edgeagent/{d}/events</c>.</summary>
    public Task PublishEventAsync(string type, JsonObject? fields = null, CancellationToken cancellationToken = default)
    {
        var body = new JsonObject
        {
            ["type"] = type,
            ["device"] = _connection.Topics.DeviceId,
            ["ts"] = DateTimeOffset.UtcNow.ToString("O"),
        };
        if (fields is not null)
            foreach (var (key, value) in fields.ToList())
            {
                fields.Remove(key);
                body[key] = value;
            }
        return SendAsync(_connection.Topics.Events, System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()), cancellationToken);
    }

    /// <summary>Sends now when online and the outbox is empty; otherwise queues behind what is already waiting.</summary>
    /// <remarks>The payload is read before the returned task completes and not kept (the outbox copies it), so it may come from a reused buffer.</remarks>
    public async Task SendAsync(string topic, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken = default)
    {
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_outbox.Count == 0 && await _connection.PublishAsync(topic, payload, qos: 1, retain: false, cancellationToken: cancellationToken).ConfigureAwait(false))
                return;
            _outbox.Enqueue(topic, payload.Span);
        }
        finally
        {
            _sending.Release();
        }
        if (_connection.IsConnected) await DrainAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task DrainAsync(CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            int sent = await _outbox.DrainAsync(m => _connection.PublishAsync(m, cancellationToken), cancellationToken).ConfigureAwait(false);
            if (sent > 0) _logger.LogInformation("sent {Count} messages stored while offline ({Left} left, {Dropped} dropped so far)", sent, _outbox.Count, _outbox.Dropped);
        }
        finally
        {
            _sending.Release();
        }
    }
}
