using System.Buffers;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>
/// The broker that runs in this very process (the embedded one, when no broker is configured), published into
/// directly instead of through a TCP round trip to ourselves. Over loopback, one QoS 1 telemetry batch cost ~7.7 KB
/// of managed allocation (the client's PUBLISH and PUBACK handling, the broker's decoding, its copy of the payload,
/// both sides' socket state machines); handed to the broker here it costs the broker's dispatch alone (~0.4 KB).
/// Subscribers see the same message: the broker's own dispatch runs (interceptors, retained store, QoS downgrade per
/// subscription, retain-as-published, no-local against the client id given as sender).
/// </summary>
/// <remarks>
/// MQTTnet's dispatch does not copy an injected payload: the retained store and every subscriber's queued PUBLISH
/// refer to the caller's memory. A payload the caller reuses afterwards (a <em>borrowed</em> one, such as the
/// telemetry batcher's buffer) is therefore copied before the broker can keep it: eagerly when retained, and on the
/// first subscriber it is queued for otherwise (<see cref="MqttServer.InterceptingClientEnqueueAsync"/> runs before
/// the broker builds that subscriber's packet). With no subscriber on the topic, nothing is copied at all.
/// And when the broker's <see cref="BrokerSubscriptions"/> are known, a message that is not retained and matches none of
/// them is not dispatched at all: the broker would drop it (MQTT has no other receiver for it) after ~0.2 KB of work.
/// </remarks>
public sealed class InProcessBroker
{
    private readonly MqttServer _server;
    // One message and its injection wrapper, reused for every publish the broker does not keep (not retained), so a
    // telemetry batch costs no message object. Taken with an exchange: a concurrent publish builds its own.
    private readonly MqttApplicationMessage _reusable = new();
    private readonly InjectedMqttApplicationMessage _reusableInjection;
    private MqttApplicationMessage? _free;
    // True while _reusable carries a borrowed payload that no subscriber has been given a copy of yet.
    private volatile bool _reusableBorrowed;

    private readonly BrokerSubscriptions? _subscriptions;

    /// <param name="subscriptions">The broker's subscriptions, followed from before it started; null: every message is
    /// dispatched.</param>
    public InProcessBroker(MqttServer server, string senderClientId, BrokerSubscriptions? subscriptions = null)
    {
        _server = server;
        _subscriptions = subscriptions;
        SenderClientId = senderClientId;
        _reusableInjection = new InjectedMqttApplicationMessage(_reusable) { SenderClientId = senderClientId };
        _free = _reusable;
        server.InterceptingClientEnqueueAsync += OnEnqueueAsync;
    }

    /// <summary>The client id the broker is told sent each message (the daemon's own connection's).</summary>
    public string SenderClientId { get; }

    /// <summary>Each message handed to <see cref="PublishAsync"/> (topic, payload bytes), dispatched or not.</summary>
    public event Action<string, long>? Publishing;

    /// <summary>Messages not dispatched because no subscription could match them.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    private long _skipped;

    /// <summary>
    /// Dispatches one message as if the daemon's client had published it. <paramref name="borrowed"/>: the caller
    /// reuses <paramref name="payload"/> once the returned task completes, so the broker must not keep it.
    /// </summary>
    public async Task PublishAsync(string topic, ReadOnlyMemory<byte> payload, bool borrowed, int qos, bool retain, byte[]? correlationData,
        CancellationToken cancellationToken)
    {
        Publishing?.Invoke(topic, payload.Length);
        if (!retain && _subscriptions is { } subscriptions && !subscriptions.MayHaveSubscriber(topic))
        {
            Interlocked.Increment(ref _skipped);
            return;
        }
        var level = qos >= 1 ? MqttQualityOfServiceLevel.AtLeastOnce : MqttQualityOfServiceLevel.AtMostOnce;
        var message = retain ? null : Interlocked.Exchange(ref _free, null);
        if (message is null)
        {
            // Retained (the broker keeps the message object itself) or a concurrent publish: a message of its own.
            var own = new MqttApplicationMessage
            {
                Topic = topic,
                Payload = new ReadOnlySequence<byte>(borrowed ? payload.ToArray() : payload),
                QualityOfServiceLevel = level,
                Retain = retain,
                CorrelationData = correlationData,
            };
            await _server.InjectApplicationMessage(new InjectedMqttApplicationMessage(own) { SenderClientId = SenderClientId }, cancellationToken)
                .ConfigureAwait(false);
            return;
        }
        message.Topic = topic;
        message.Payload = new ReadOnlySequence<byte>(payload);
        message.QualityOfServiceLevel = level;
        message.Retain = false;
        message.CorrelationData = correlationData;
        _reusableBorrowed = borrowed;
        try
        {
            await _server.InjectApplicationMessage(_reusableInjection, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _reusableBorrowed = false;
            message.Payload = default;
            message.CorrelationData = null;
            Volatile.Write(ref _free, message);
        }
    }

    private Task OnEnqueueAsync(InterceptingClientApplicationMessageEnqueueEventArgs e)
    {
        // The first subscriber of a borrowed payload: the message gets a copy, which this and every later subscriber's
        // packet share, and which stays valid after the caller reuses its buffer.
        if (_reusableBorrowed && ReferenceEquals(e.ApplicationMessage, _reusable))
        {
            _reusable.Payload = new ReadOnlySequence<byte>(_reusable.Payload.ToArray());
            _reusableBorrowed = false;
        }
        return Task.CompletedTask;
    }
}
