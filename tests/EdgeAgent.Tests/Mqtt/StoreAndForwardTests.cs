using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeAgent.Daemon.Mqtt;
using Xunit;

namespace EdgeAgent.Tests.Mqtt;

public sealed class StoreAndForwardTests
{
    private static string NewPath() => Path.Combine(Path.GetTempPath(), "edgeagent-outbox-" + Guid.NewGuid().ToString("N")[..8] + ".db");

    [Fact]
    public void PastItsBoundTheOutboxDropsTheOldestAndCountsThemAcrossReopens()
    {
        string path = NewPath();
        try
        {
            using (var outbox = new Outbox(path, capacity: 3))
            {
                for (int i = 1; i <= 5; i++) outbox.Enqueue("t/" + i, Encoding.UTF8.GetBytes("m" + i));
                Assert.Equal(3, outbox.Count);
                Assert.Equal(2, outbox.Dropped);
                Assert.Equal(["t/3", "t/4", "t/5"], outbox.Peek(10).Select(m => m.Message.Topic));
            }
            using (var reopened = new Outbox(path, capacity: 3))
            {
                Assert.Equal(3, reopened.Count);
                Assert.Equal(2, reopened.Dropped);
                reopened.Enqueue("t/6", "m6"u8);
                Assert.Equal(3, reopened.Dropped);
                Assert.Equal("m4", Encoding.UTF8.GetString(reopened.Peek(1)[0].Message.Payload.Span));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task DrainStopsAtTheFirstFailureAndKeepsWhatWasNotAcknowledged()
    {
        string path = NewPath();
        try
        {
            using var outbox = new Outbox(path, capacity: 10);
            for (int i = 1; i <= 4; i++) outbox.Enqueue("t/" + i, [(byte)i]);
            var sent = new List<string>();
            int sentCount = await outbox.DrainAsync(m =>
            {
                if (sent.Count == 2) return Task.FromResult(false); // the link drops again
                sent.Add(m.Topic);
                return Task.FromResult(true);
            }, CancellationToken.None);
            Assert.Equal(2, sentCount);
            Assert.Equal(["t/1", "t/2"], sent);
            Assert.Equal(["t/3", "t/4"], outbox.Peek(10).Select(m => m.Message.Topic));
            Assert.All(outbox.Peek(10), m => Assert.Equal(1, m.Message.Qos));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task EventsRaisedWhileTheBrokerIsDownArriveInOrderAfterItReturns()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        using var bundles = new TestBundles();
        await using var device = new DeviceHarness(broker, bundles, "saf-dev", configure: o =>
        {
            o.OutboxCapacity = 3;
            o.ReconnectMinMs = 1500;
            o.ReconnectMaxMs = 2000;
        });
        await device.StartAsync();
        await broker.StopAsync();
        for (int i = 0; i < 200 && device.Plane.Connection.IsConnected; i++) await Task.Delay(20);
        Assert.False(device.Plane.Connection.IsConnected);

        for (int i = 1; i <= 5; i++) await device.Plane.PublishEventAsync("test/offline", new JsonObject { ["n"] = i });
        Assert.Equal(3, device.Plane.Outbox.Count);
        Assert.Equal(2, device.Plane.Outbox.Dropped);

        await broker.RestartAsync();
        await using var op = await TestClient.ConnectAsync(broker);
        await op.SubscribeAsync("edgeagent/saf-dev/events");
        await op.SubscribeAsync("edgeagent/saf-dev/status");
        static int? N(MQTTnet.MqttApplicationMessage m) =>
            m.Topic.EndsWith("/events") && JsonDocument.Parse(m.Payload.ToArray()).RootElement.TryGetProperty("n", out var n) ? n.GetInt32() : null;
        await op.WaitForAsync(m => N(m) == 5,
            TimeSpan.FromSeconds(20), "the last stored event");
        var numbers = op.Received.Select(N).Where(n => n is not null).Select(n => n!.Value).ToList();
        Assert.Equal([3, 4, 5], numbers);
        Assert.Equal(0, device.Plane.Outbox.Count);
        // The first retained status may still be the last will ({"online": false}); the device's own follows.
        var status = await op.WaitForAsync(m => m.Topic.EndsWith("/status") && JsonDocument.Parse(m.Payload.ToArray()).RootElement.TryGetProperty("outbox", out _),
            what: "the online status");
        Assert.Equal(2, JsonDocument.Parse(status.Payload.ToArray()).RootElement.GetProperty("outbox").GetProperty("dropped").GetInt64());
    }

    [Fact]
    public async Task TelemetryIsBatchedAndACleanStopLeavesTheRetainedStatusOffline()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        using var bundles = new TestBundles();
        await using var device = new DeviceHarness(broker, bundles, "tel-dev", configure: o => { o.TelemetryIntervalMs = 200; o.TelemetryBatchMax = 50; });
        await device.StartAsync();
        await using var op = await TestClient.ConnectAsync(broker);
        await op.SubscribeAsync("edgeagent/tel-dev/telemetry");
        for (int i = 0; i < 120; i++) device.Plane.PostTelemetry(new JsonObject { ["label"] = "ok", ["score"] = 0.9, ["i"] = i });
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var items = new List<int>();
        while (items.Count < 120 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            items = op.Received.SelectMany(m => JsonDocument.Parse(m.Payload.ToArray()).RootElement.GetProperty("items").EnumerateArray()
                .Select(e => e.GetProperty("i").GetInt32())).ToList();
        }
        Assert.Equal(Enumerable.Range(0, 120), items);
        Assert.True(op.Received.Count >= 3, "120 samples with a batch limit of 50 need at least 3 messages");
        Assert.All(op.Received, m => Assert.True(JsonDocument.Parse(m.Payload.ToArray()).RootElement.GetProperty("items").GetArrayLength() <= 50));

        await device.Plane.StopAsync();
        await using var late = await TestClient.ConnectAsync(broker, "late");
        await late.SubscribeAsync("edgeagent/tel-dev/status");
        var status = await late.WaitForAsync(m => m.Retain, what: "retained status");
        Assert.False(JsonDocument.Parse(status.Payload.ToArray()).RootElement.GetProperty("online").GetBoolean());
    }
}
