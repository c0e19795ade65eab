using System.Buffers;
using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using EdgeAgent.Compression.Distribution;
using EdgeAgent.Exporter.Cli;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeAgent.Exporter.Mqtt;

/// <summary>How the exporter reaches a broker: address, TLS files, credentials.</summary>
internal sealed record BrokerSettings(BrokerAddress Address, string? CaFile, string? CertFile, string? KeyFile, string? Username, string? PasswordFile);

/// <summary>
/// The exporter's MQTT 5 connection, as the transfer library's <see cref="ITransferChannel"/>: retained QoS 1 publishes
/// acknowledged by the broker, and reads of retained messages. Also records what arrives on extra subscriptions
/// (device events) so a command can wait for the device's answer.
/// </summary>
internal sealed class BrokerChannel : ITransferChannel, IAsyncDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    private readonly ConcurrentQueue<MqttApplicationMessage> _received = new();

    public static async Task<BrokerChannel> ConnectAsync(BrokerSettings settings, CancellationToken cancellationToken)
    {
        var channel = new BrokerChannel();
        channel._client.ApplicationMessageReceivedAsync += e =>
        {
            channel._received.Enqueue(e.ApplicationMessage);
            return Task.CompletedTask;
        };
        var builder = new MqttClientOptionsBuilder()
            .WithTcpServer(settings.Address.Host, settings.Address.Port)
            .WithClientId("edgeagent-exporter-" + Guid.NewGuid().ToString("N")[..8])
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithCleanStart(true)
            .WithTimeout(TimeSpan.FromSeconds(15));
        if (settings.Username is not null)
        {
            string password = settings.PasswordFile is null ? "" : (File.ReadLines(settings.PasswordFile).FirstOrDefault() ?? "");
            builder.WithCredentials(settings.Username, password);
        }
        if (settings.Address.Tls)
        {
            builder.WithTlsOptions(tls =>
            {
                tls.UseTls().WithTargetHost(settings.Address.Host);
                if (settings.CertFile is not null)
                    tls.WithClientCertificates([X509Certificate2.CreateFromPemFile(settings.CertFile, settings.KeyFile)]);
                if (settings.CaFile is not null)
                {
                    var trusted = new X509Certificate2Collection();
                    trusted.ImportFromPemFile(settings.CaFile);
                    tls.WithTrustChain(trusted);
                }
            });
        }
        try
        {
            var result = await channel._client.ConnectAsync(builder.Build(), cancellationToken).ConfigureAwait(false);
            if (result.ResultCode != MqttClientConnectResultCode.Success)
                throw new CommandFailedException($"broker {settings.Address} refused the connection: {result.ResultCode} {result.ReasonString}");
        }
        catch (Exception e) when (e is not CommandFailedException and not OperationCanceledException)
        {
            channel._client.Dispose();
            throw new CommandFailedException($"cannot connect to broker {settings.Address}: {e.Message}", e);
        }
        return channel;
    }

    public async Task PublishRetainedAsync(string topic, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken)
    {
        var message = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload.ToArray()).WithRetainFlag(true)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build();
        var result = await _client.PublishAsync(message, cancellationToken).ConfigureAwait(false);
        if (!result.IsSuccess && result.ReasonCode != MqttClientPublishReasonCode.NoMatchingSubscribers)
            throw new CommandFailedException($"broker refused the message on {topic}: {result.ReasonCode} {result.ReasonString}");
    }

    public async Task<byte[]?> ReadRetainedAsync(string topic, CancellationToken cancellationToken)
    {
        await SubscribeAsync(topic, cancellationToken).ConfigureAwait(false);
        // A broker sends retained messages right after SUBACK; a short wait covers the round trip.
        var deadline = DateTime.UtcNow.AddMilliseconds(500);
        while (DateTime.UtcNow < deadline)
        {
            var hit = _received.FirstOrDefault(m => m.Topic == topic && m.Retain);
            if (hit is not null) return hit.Payload.ToArray();
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
        return null;
    }

    public Task SubscribeAsync(string filter, CancellationToken cancellationToken) =>
        _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken);

    /// <summary>
    /// The retained messages on topics matching <paramref name="filter"/>. A broker sends them right after SUBACK, so the
    /// set is complete once nothing new arrived for <paramref name="quiet"/> (or <paramref name="limit"/> passed).
    /// </summary>
    public async Task<IReadOnlyList<MqttApplicationMessage>> ReadRetainedMatchingAsync(string filter, TimeSpan quiet, TimeSpan limit,
        CancellationToken cancellationToken)
    {
        var found = new Dictionary<string, MqttApplicationMessage>(StringComparer.Ordinal);
        await SubscribeAsync(filter, cancellationToken).ConfigureAwait(false);
        var start = DateTime.UtcNow;
        var lastArrival = start;
        while (DateTime.UtcNow - lastArrival < quiet && DateTime.UtcNow - start < limit)
        {
            if (Take(filter, found) > 0) lastArrival = DateTime.UtcNow;
            await Task.Delay(10, cancellationToken).ConfigureAwait(false);
        }
        await _client.UnsubscribeAsync(filter, cancellationToken).ConfigureAwait(false);
        Take(filter, found);
        return [.. found.Values.Where(m => m.Payload.Length > 0).OrderBy(m => m.Topic, StringComparer.Ordinal)];
    }

    /// <summary>
    /// The retained payloads of exactly <paramref name="topics"/> (a transfer's chunks), under the one subscription
    /// <paramref name="filter"/>; throws naming how many are missing when they do not all arrive within <paramref name="timeout"/>.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, byte[]>> ReadRetainedTopicsAsync(string filter, IReadOnlyCollection<string> topics, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var wanted = topics.ToHashSet(StringComparer.Ordinal);
        var found = new Dictionary<string, MqttApplicationMessage>(StringComparer.Ordinal);
        await SubscribeAsync(filter, cancellationToken).ConfigureAwait(false);
        var deadline = DateTime.UtcNow + timeout;
        while (!wanted.All(found.ContainsKey) && DateTime.UtcNow < deadline)
        {
            Take(filter, found);
            if (!wanted.All(found.ContainsKey)) await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
        await _client.UnsubscribeAsync(filter, cancellationToken).ConfigureAwait(false);
        int missing = wanted.Count(t => !found.ContainsKey(t));
        if (missing > 0)
            throw new CommandFailedException($"{missing} of {wanted.Count} retained messages under {filter} did not arrive within {timeout.TotalSeconds:0} s");
        return wanted.ToDictionary(t => t, t => found[t].Payload.ToArray(), StringComparer.Ordinal);
    }

    /// <summary>Moves received messages matching <paramref name="filter"/> into <paramref name="into"/> (latest per topic); others stay queued.</summary>
    private int Take(string filter, Dictionary<string, MqttApplicationMessage> into)
    {
        int taken = 0;
        var others = new List<MqttApplicationMessage>();
        while (_received.TryDequeue(out var message))
        {
            if (MqttTopicFilterComparer.Compare(message.Topic, filter) == MqttTopicFilterCompareResult.IsMatch)
            {
                into[message.Topic] = message;
                taken++;
            }
            else others.Add(message);
        }
        foreach (var message in others) _received.Enqueue(message);
        return taken;
    }

    /// <summary>Waits for a message matching <paramref name="match"/>; null on timeout.</summary>
    public async Task<MqttApplicationMessage?> WaitForAsync(Func<MqttApplicationMessage, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            while (_received.TryDequeue(out var message))
                if (match(message)) return message;
            await Task.Delay(5, cancellationToken).ConfigureAwait(false);
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected)
        {
            try { await _client.DisconnectAsync().ConfigureAwait(false); }
            catch (Exception) { /* the broker went away first; nothing left to close */ }
        }
        _client.Dispose();
    }
}
