using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using EdgeAgent.Compression.Distribution;
using MQTTnet;
using MQTTnet.Protocol;

namespace EdgeAgent.Tests.Mqtt;

/// <summary>An operator-side MQTT 5 client for tests: publishes requests and records everything it receives.</summary>
public sealed class TestClient : ITransferChannel, IAsyncDisposable
{
    private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
    public ConcurrentQueue<MqttApplicationMessage> Received { get; } = new();

    public static async Task<TestClient> ConnectAsync(MosquittoBroker broker, string id = "test-operator")
    {
        var client = new TestClient();
        client._client.ApplicationMessageReceivedAsync += e =>
        {
            client.Received.Enqueue(e.ApplicationMessage);
            return Task.CompletedTask;
        };
        await client._client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", broker.Port)
            .WithClientId(id + "-" + Guid.NewGuid().ToString("N")[..6]).WithCleanStart(true).Build());
        return client;
    }

    public Task SubscribeAsync(string filter) =>
        _client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(filter, MqttQualityOfServiceLevel.AtLeastOnce).Build());

    public Task PublishAsync(string topic, byte[] payload, bool retain = false, string? responseTopic = null, byte[]? correlation = null)
    {
        var builder = new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload).WithRetainFlag(retain)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce);
        if (responseTopic is not null) builder.WithResponseTopic(responseTopic);
        if (correlation is not null) builder.WithCorrelationData(correlation);
        return _client.PublishAsync(builder.Build());
    }

    public Task PublishAsync(string topic, string payload, bool retain = false) => PublishAsync(topic, Encoding.UTF8.GetBytes(payload), retain);

    public async Task<MqttApplicationMessage> WaitForAsync(Func<MqttApplicationMessage, bool> match, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (DateTime.UtcNow < deadline)
        {
            var hit = Received.FirstOrDefault(match);
            if (hit is not null) return hit;
            await Task.Delay(20);
        }
        throw new TimeoutException($"no message {what} within {(timeout ?? TimeSpan.FromSeconds(15)).TotalSeconds} s; received: " +
            string.Join(", ", Received.Select(m => m.Topic).Distinct().Take(20)));
    }

    public static string Text(MqttApplicationMessage message) => Encoding.UTF8.GetString(message.Payload.ToArray());

    public async Task PublishRetainedAsync(string topic, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken) =>
        await _client.PublishAsync(new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload.ToArray()).WithRetainFlag(true)
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).Build(), cancellationToken);

    public async Task<byte[]?> ReadRetainedAsync(string topic, CancellationToken cancellationToken)
    {
        var before = Received.Count;
        await SubscribeAsync(topic);
        var deadline = DateTime.UtcNow.AddMilliseconds(300);
        while (DateTime.UtcNow < deadline)
        {
            var hit = Received.Skip(before).FirstOrDefault(m => m.Topic == topic && m.Retain);
            if (hit is not null) return hit.Payload.ToArray();
            await Task.Delay(10, cancellationToken);
        }
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        if (_client.IsConnected) await _client.DisconnectAsync();
        _client.Dispose();
    }
}
