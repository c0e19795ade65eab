using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Learning;
using EdgeAgent.Daemon.Pipeline;
using EdgeAgent.Daemon.Reservoir;
using EdgeAgent.Tests.Learning;
using EdgeAgent.Tests.Support;
using Xunit;

namespace EdgeAgent.Tests.Control;

public class StatusProviderTests
{
    [Fact]
    public async Task StatusIsWrittenWithoutAllocatingOnceRunning()
    {
        // The retained status is written from GetStatus every minute for as long as the daemon runs, so the whole
        // path (counters, model, reservoir counts, drift, GC and memory figures, a degraded health's reason) must
        // allocate nothing once the daemon is running: it cost ~5 KB a status with a JsonObject for the drift, a
        // status record, a reservoir stats record, GC.GetGCMemoryInfo and a /proc handle per call.
        using var fixture = new LearningFixture();
        await fixture.ServeBaseModelAsync();
        using var dir = new TempDirectory();
        using var reservoir = new LiteDbReservoir(new ReservoirSettings(dir.File("r.db"), 10, 10, 0, 64L << 20));
        var start = DateTimeOffset.UnixEpoch;
        for (int i = 0; i < 30; i++) reservoir.Offer(new ReservoirOffer(start, start, "1.0.0", 1, "a", 0.9f), [i, i], [i]);
        reservoir.Flush();
        reservoir.LabelLatest("a");

        var drift = new DriftMonitor(new LearningOptions { DriftReferenceWindows = 20, DriftRecentWindows = 10 }, new RecordingSink(), TimeProvider.System, null);
        var random = new Random(3);
        var embedding = new float[4];
        for (int i = 0; i < 40; i++)
        {
            for (int f = 0; f < embedding.Length; f++) embedding[f] = (float)random.NextDouble() + (i >= 30 ? 3 : 0);
            drift.Observe("vibration", "1.0.0", embedding, [0.7f, 0.3f]);
            if (i == 20) drift.CheckQuietly(); // fits the reference
        }
        drift.CheckQuietly();

        var metrics = new PipelineMetrics();
        metrics.AddSamples(1000);
        metrics.AddInference();
        metrics.AddDroppedWindow(); // a degraded health, whose reason names the drops
        metrics.LastPrediction = "a";
        var options = new EdgeAgentOptions();
        options.Device.Id = "dev-1";
        var provider = new StatusProvider(options, fixture.Host, metrics, TimeProvider.System, reservoir, drift);

        var buffer = new ArrayBufferWriter<byte>(8192);
        using var writer = new Utf8JsonWriter(buffer);
        void WriteOnce()
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            writer.WriteStartObject();
            provider.GetStatus().WriteProperties(writer);
            writer.WriteEndObject();
            writer.Flush();
        }
        GC.Collect(); // the GC's committed figure describes the last collection: there is one to describe
        WriteOnce();
        WriteOnce();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) WriteOnce();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        var status = JsonNode.Parse(buffer.WrittenSpan)!.AsObject();
        Assert.Equal("dev-1", (string?)status["device"]);
        Assert.Equal("1.0.0", (string?)status["model"]!["version"]);
        Assert.Equal("degraded", (string?)status["health"]);
        Assert.Equal("dropped 0 samples and 1 windows since start", (string?)status["health_reason"]);
        Assert.Equal(10, (long)status["reservoir"]!["samples"]!);
        Assert.Equal(30, (long)status["reservoir"]!["seen"]!);
        Assert.Equal("monitoring", (string?)status["drift"]!["state"]);
        Assert.True((bool)status["drift"]!["drifting"]!, status["drift"]!.ToJsonString());
        Assert.True((long)status["performance"]!["rss_bytes"]! > 0);
        Assert.True((long)status["performance"]!["managed_committed_bytes"]! > 0);
        Assert.Equal(0, allocated);
    }
}
