using System.Net;
using System.Text;
using EdgeAgent.Daemon.Mqtt;
using EdgeAgent.Tests.Pipeline;
using EdgeAgent.Tests.Support;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Protocol;
using MQTTnet.Server;
using Xunit;
using Xunit.Abstractions;

namespace EdgeAgent.Tests.Mqtt;

/// <summary>
/// The daemon's connection to its own embedded broker publishes in-process (<see cref="InProcessBroker"/>): what a
/// subscriber receives must be what the same publishes over the TCP connection give it, payloads the caller reuses
/// must arrive as they were when published, and the route must cost a fraction of the loopback round trip.
/// Non-parallel: the allocation test reads the process's allocation counter.
/// </summary>
[Collection(nameof(ProcessAllocationCollection))]
public sealed class InProcessBrokerTests(ITestOutputHelper output)
{
    private sealed record Seen(string Topic, string Payload, MqttQualityOfServiceLevel Qos, bool Retain, string? Correlation);

    [Fact]
    public async Task SubscribersReceiveWhatTheTcpRouteGivesThemEvenFromAReusedBuffer()
    {
        var overTcp = await PublishSequenceAsync(inProcess: false);
        var inProcess = await PublishSequenceAsync(inProcess: true);
        // The same with the broker's subscriptions followed (messages nobody can receive are not dispatched): a
        // subscriber of edgeagent/dev/# receives everything, so nothing may be skipped.
        var followed = await PublishSequenceAsync(inProcess: true, followSubscriptions: true);
        Assert.Equal(8, overTcp.Live.Count);
        Assert.Equal(overTcp.Live, inProcess.Live);
        Assert.Equal(overTcp.Late, inProcess.Late);
        Assert.Equal(overTcp.Live, followed.Live);
        Assert.Equal(overTcp.Late, followed.Late);
        // The borrowed buffer was overwritten after every publish: each batch still arrives as published.
        Assert.Equal(["batch 0", "batch 1", "batch 2", "batch 3"],
            inProcess.Live.Where(m => m.Topic.EndsWith("/telemetry", StringComparison.Ordinal)).Select(m => m.Payload));
        Assert.Contains(new Seen("edgeagent/dev/status", "{\"online\":true}", MqttQualityOfServiceLevel.AtLeastOnce, true, null), inProcess.Live);
        Assert.Contains(new Seen("edgeagent/dev/reply/ping", "pong", MqttQualityOfServiceLevel.AtLeastOnce, false, "c-1"), inProcess.Live);
        Assert.Contains(new Seen("edgeagent/dev/events", "qos0", MqttQualityOfServiceLevel.AtMostOnce, false, null), inProcess.Live);
        // A subscriber that comes later gets the retained messages as they were, though one came from a reused buffer.
        Assert.Equal([new Seen("edgeagent/dev/retained-borrowed", "kept", MqttQualityOfServiceLevel.AtLeastOnce, true, null),
            new Seen("edgeagent/dev/status", "{\"online\":true}", MqttQualityOfServiceLevel.AtLeastOnce, true, null)], inProcess.Late);
    }

    [Fact]
    public async Task MessagesNoSubscriptionCanMatchAreNotDispatchedButRetainedOnesAreStoredAndNewSubscribersReceive()
    {
        var (server, connection, port) = await StartAsync(inProcess: true, followSubscriptions: true);
        try
        {
            var inProcess = connection.InProcess!;
            var handed = new List<string>();
            inProcess.Publishing += (topic, _) => { lock (handed) handed.Add(topic); };
            // The daemon's own connection subscribes to its command topics, nothing else.
            Assert.True(await connection.PublishAsync(connection.Topics.Telemetry, "t0"u8.ToArray(), qos: 1, retain: false));
            Assert.Equal(1, inProcess.Skipped);
            // Retained: dispatched though nobody listens, so the broker stores it.
            Assert.True(await connection.PublishAsync(new OutboundMessage(connection.Topics.Status, "{\"online\":true}"u8.ToArray(), Qos: 1, Retain: true)));
            Assert.Equal(1, inProcess.Skipped);

            var seen = new List<Seen>();
            var subscriber = await SubscribeAsync(port, seen); // edgeagent/dev/#: gets the retained status at once
            await WaitForAsync(seen, 1);
            Assert.Equal("edgeagent/dev/status", seen[0].Topic);
            Assert.True(await connection.PublishAsync(connection.Topics.Telemetry, "t1"u8.ToArray(), qos: 1, retain: false));
            await WaitForAsync(seen, 2);
            Assert.Equal(new Seen("edgeagent/dev/telemetry", "t1", MqttQualityOfServiceLevel.AtLeastOnce, false, null), seen[1]);
            Assert.Equal(1, inProcess.Skipped);

            // Its session ends with its clean disconnect (the broker deletes it a moment later): telemetry has no
            // receiver again.
            await subscriber.DisconnectAsync();
            var deadline = DateTime.UtcNow.AddSeconds(15);
            int telemetry = 2;
            while (inProcess.Skipped < 2)
            {
                Assert.True(DateTime.UtcNow < deadline, "telemetry was still dispatched 15 s after its only subscriber left");
                Assert.True(await connection.PublishAsync(connection.Topics.Telemetry, "t2"u8.ToArray(), qos: 1, retain: false));
                telemetry++;
                await Task.Delay(20);
            }
            lock (handed)
            {
                Assert.Equal(telemetry, handed.Count(t => t == "edgeagent/dev/telemetry"));
                Assert.Equal(1, handed.Count(t => t == "edgeagent/dev/status"));
            }
        }
        finally
        {
            await connection.DisposeAsync();
            await server.StopAsync(new MqttServerStopOptions());
            server.Dispose();
        }
    }

    [Fact]
    public async Task APublishInProcessCostsAFractionOfTheLoopbackRoundTrip()
    {
        double tcp = await BytesPerPublishAsync(inProcess: false), local = await BytesPerPublishAsync(inProcess: true);
        double skipped = await BytesPerPublishAsync(inProcess: true, followSubscriptions: true);
        output.WriteLine($"a 2 KB QoS 1 publish to the embedded broker, no subscriber: {tcp:F0} B over TCP loopback, {local:F0} B in-process, {skipped:F0} B when the broker's subscriptions are followed");
        // Not dispatched at all: no allocation (a few bytes of slack for the test's own await machinery).
        Assert.True(skipped <= 16, $"{skipped:F0} bytes per in-process publish that no subscription matches");
        // Measured ~7.7 KB over TCP (both ends' packets, state machines, the broker's payload copy) and ~0.4 KB in-process
        // (the broker's dispatch). Any copy of the 2 KB payload, or a message object per publish, shows here.
        Assert.True(local <= 1024, $"{local:F0} bytes per in-process publish");
        Assert.True(local * 4 <= tcp, $"in-process {local:F0} B is not a quarter of TCP's {tcp:F0} B");
    }

    private static async Task<(MqttServer Server, MqttConnection Connection, int Port)> StartAsync(bool inProcess, bool followSubscriptions = false)
    {
        int port = TestDaemon.FreePort();
        var serverOptions = new MqttServerOptionsBuilder().WithDefaultEndpoint().WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointBoundIPV6Address(IPAddress.None).WithDefaultEndpointPort(port).WithPersistentSessions().Build();
        var server = new MqttServerFactory().CreateMqttServer(serverOptions);
        var subscriptions = followSubscriptions ? BrokerSubscriptions.Attach(server) : null;
        await server.StartAsync();
        if (followSubscriptions) Assert.Throws<InvalidOperationException>(() => BrokerSubscriptions.Attach(server));
        var connection = new MqttConnection(new MqttOptions { Broker = $"mqtt://127.0.0.1:{port}", DeviceId = "dev", ProtocolVersion = "5" },
            NullLogger.Instance, inProcess ? server : null, subscriptions);
        Assert.Equal(inProcess, connection.PublishesInProcess);
        await connection.StartAsync(CancellationToken.None);
        await connection.WaitConnectedAsync(TimeSpan.FromSeconds(15));
        return (server, connection, port);
    }

    private static async Task<(List<Seen> Live, List<Seen> Late)> PublishSequenceAsync(bool inProcess, bool followSubscriptions = false)
    {
        var (server, connection, port) = await StartAsync(inProcess, followSubscriptions);
        try
        {
            var live = new List<Seen>();
            var observer = await SubscribeAsync(port, live);
            var buffer = new byte[64];
            for (int i = 0; i < 4; i++)
            {
                int n = Encoding.UTF8.GetBytes($"batch {i}", buffer);
                Assert.True(await connection.PublishAsync(connection.Topics.Telemetry, buffer.AsMemory(0, n), qos: 1, retain: false));
                buffer.AsSpan().Fill((byte)'#'); // the batcher's next batch overwrites its buffer
            }
            Assert.True(await connection.PublishAsync(new OutboundMessage(connection.Topics.Status, "{\"online\":true}"u8.ToArray(), Qos: 1, Retain: true)));
            Assert.True(await connection.PublishAsync(new OutboundMessage(connection.Topics.Reply("ping"), "pong"u8.ToArray(), Qos: 1, CorrelationData: "c-1"u8.ToArray())));
            Assert.True(await connection.PublishAsync(connection.Topics.Events, "qos0"u8.ToArray(), qos: 0, retain: false));
            int k = Encoding.UTF8.GetBytes("kept", buffer);
            Assert.True(await connection.PublishAsync(connection.Topics.Base + "/retained-borrowed", buffer.AsMemory(0, k), qos: 1, retain: true));
            buffer.AsSpan().Fill((byte)'#');
            await WaitForAsync(live, 8);
            var late = new List<Seen>();
            var latecomer = await SubscribeAsync(port, late);
            await WaitForAsync(late, 2);
            await observer.DisconnectAsync();
            await latecomer.DisconnectAsync();
            return (live, late.OrderBy(m => m.Topic, StringComparer.Ordinal).ToList());
        }
        finally
        {
            await connection.DisposeAsync();
            await server.StopAsync(new MqttServerStopOptions());
            server.Dispose();
        }
    }

    private static async Task<IMqttClient> SubscribeAsync(int port, List<Seen> seen)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        client.ApplicationMessageReceivedAsync += e =>
        {
            var m = e.ApplicationMessage;
            lock (seen)
                seen.Add(new Seen(m.Topic, Encoding.UTF8.GetString(System.Buffers.BuffersExtensions.ToArray(m.Payload)), m.QualityOfServiceLevel, m.Retain,
                    m.CorrelationData is null ? null : Encoding.UTF8.GetString(m.CorrelationData)));
            return Task.CompletedTask;
        };
        await client.ConnectAsync(new MqttClientOptionsBuilder().WithTcpServer("127.0.0.1", port).WithClientId("observer-" + Guid.NewGuid().ToString("N")[..8])
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500).Build());
        await client.SubscribeAsync(new MqttClientSubscribeOptionsBuilder().WithTopicFilter(f => f.WithTopic("edgeagent/dev/#")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithRetainAsPublished(true)).Build());
        return client;
    }

    private static async Task WaitForAsync(List<Seen> seen, int count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            lock (seen)
                if (seen.Count >= count) return;
            Assert.True(DateTime.UtcNow < deadline, $"{seen.Count} of {count} messages arrived within 15 s");
            await Task.Delay(20);
        }
    }

    private static async Task<double> BytesPerPublishAsync(bool inProcess, bool followSubscriptions = false)
    {
        var (server, connection, _) = await StartAsync(inProcess, followSubscriptions);
        try
        {
            var payload = new byte[2048];
            payload.AsSpan().Fill((byte)'x');
            for (int i = 0; i < 100; i++) await connection.PublishAsync(connection.Topics.Telemetry, payload, qos: 1, retain: false);
            const int Publishes = 500;
            long before = GC.GetTotalAllocatedBytes(precise: true);
            for (int i = 0; i < Publishes; i++) Assert.True(await connection.PublishAsync(connection.Topics.Telemetry, payload, qos: 1, retain: false));
            return (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)Publishes;
        }
        finally
        {
            await connection.DisposeAsync();
            await server.StopAsync(new MqttServerStopOptions());
            server.Dispose();
        }
    }
}
