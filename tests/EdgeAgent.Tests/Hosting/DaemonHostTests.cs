using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Hosting;
using EdgeAgent.Daemon.Inference;
using EdgeAgent.Daemon.Models;
using EdgeAgent.Daemon.Pipeline;
using EdgeAgent.Daemon.Reservoir;
using EdgeAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace EdgeAgent.Tests.Hosting;

/// <summary>
/// The whole daemon in-process on embedded defaults: simulated sensor at 1 kHz, embedded broker on a free
/// loopback port, demo bundle installed into an empty store, windows inferred, reservoir filled, clean stop.
/// </summary>
public class DaemonHostTests
{
    [Fact]
    public async Task RunsThePipelineOnEmbeddedDefaultsAndStopsCleanly()
    {
        using var dir = new TempDirectory();
        var daemon = TestDaemon.Build(dir, $"--mqtt:embeddedPort={TestDaemon.FreePort()}", "--pipeline:hop=16");
        using var host = daemon.Host;
        var options = daemon.Options;
        await host.StartAsync();
        var metrics = host.Services.GetRequiredService<PipelineMetrics>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (metrics.Inferences < 20 && DateTime.UtcNow < deadline) await Task.Delay(100);
        var status = host.Services.GetRequiredService<IStatusProvider>().GetStatus();
        var registry = host.Services.GetRequiredService<CommandRegistry>();
        var label = await registry.DispatchAsync(CommandRequest.Parse("label", """{"id": "1", "class": "imbalance"}"""), CancellationToken.None);
        await host.StopAsync(TimeSpan.FromSeconds(20));

        Assert.True(metrics.Inferences >= 20, $"{metrics.Inferences} inferences in 30 s");
        Assert.True(metrics.Samples >= 20 * 16);
        Assert.Equal("0.1", status.ModelVersion);
        Assert.NotEqual("failed", status.Health);
        Assert.True(label.Ok, label.Error);
        using var reservoir = new LiteDbReservoir(ReservoirSettings.From(options.Reservoir));
        var stats = reservoir.GetStats();
        Assert.True(stats.Unlabelled > 0, "the reservoir was flushed on stop");
        Assert.Equal(1, stats.PerClass["imbalance"]);
        Assert.Empty(reservoir.CheckConsistency());
        Assert.Equal("0.1", new ModelStore(options.Model.StoreDirectory, 3, null).GetCurrent("vibration")!.Version);
    }

    [Fact]
    public async Task PublishesTheStartUpEventStatusAndTelemetryToTheEmbeddedBroker()
    {
        using var dir = new TempDirectory();
        using var host = TestDaemon.Build(dir,
            $"--mqtt:embeddedPort={TestDaemon.FreePort()}",
            "--device:id=host-test",
            "--mqtt:telemetryIntervalMs=200",
            "--pipeline:hop=16").Host;
        await host.StartAsync();
        var traffic = host.Services.GetRequiredService<BrokerTraffic>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && !traffic.Snapshot().Any(t => t.Topic == "edgeagent/host-test/telemetry"))
            await Task.Delay(100);
        await host.StopAsync(TimeSpan.FromSeconds(20));

        var topics = traffic.Snapshot().ToDictionary(t => t.Topic, t => t.Messages);
        Assert.True(topics.ContainsKey("edgeagent/host-test/telemetry"), "telemetry reached the broker: " + string.Join(", ", topics.Keys));
        // model.activated happens while the model loads, before the MQTT client exists: it must be queued, not lost.
        Assert.True(topics.GetValueOrDefault("edgeagent/host-test/events") >= 1, "the start-up event reached the broker: " + string.Join(", ", topics.Keys));
        // Online on connect, offline on the clean stop.
        Assert.True(topics.GetValueOrDefault("edgeagent/host-test/status") >= 2, $"status messages: {topics.GetValueOrDefault("edgeagent/host-test/status")}");
    }
}
