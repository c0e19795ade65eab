using EdgeAgent.Daemon.Hosting;
using EdgeAgent.Daemon.Pipeline;
using EdgeAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace EdgeAgent.Tests.Pipeline;

/// <summary>Runs alone: the whole process's allocation counter would otherwise count the other tests too.</summary>
[CollectionDefinition(nameof(ProcessAllocationCollection), DisableParallelization = true)]
public sealed class ProcessAllocationCollection;

/// <summary>
/// What the whole in-process daemon allocates per inference in steady state (every thread: sampling, inference,
/// telemetry batches to the embedded broker, drift monitor, reservoir writer, status), counted with
/// <see cref="GC.GetTotalAllocatedBytes"/> after start-up is over (first inference, the start-up trim).
/// </summary>
[Collection(nameof(ProcessAllocationCollection))]
public class ProcessAllocationTests(ITestOutputHelper output)
{
    [Fact]
    public async Task WholeProcessAllocatesLittlePerInferenceOnceTheReservoirRarelyKeeps()
    {
        // Capacity 10: after the first windows Algorithm R keeps one in a thousand, so this is the pipeline's own cost.
        double perInference = await MeasureAsync("--reservoir:capacity=10");
        // Measured ~1.5 KB: one telemetry batch per second through the MQTTnet client and the embedded MQTTnet broker
        // (payload, packets), the drift checks, the rare reservoir write. It was 5.8 KB with a JSON object per
        // inference, a LiteDB count query per batch and a channel waiter per wait; any of those back fails this.
        Assert.True(perInference <= 2048, $"{perInference:F0} bytes per inference over the whole process");
    }

    [Fact]
    public async Task ReservoirWritesCostLiteDbsTransactionsOnlyNoReopenOrRescan()
    {
        // Capacity 2000: every window is written. LiteDB's own transaction (pages, index nodes, WAL, checkpoints) is
        // ~30-55 KB per write here; the periodic reopen that bounded its cache before cost 180 KB per write.
        double perInference = await MeasureAsync("--reservoir:capacity=2000");
        Assert.True(perInference <= 96 * 1024, $"{perInference:F0} bytes per inference over the whole process");
    }

    private async Task<double> MeasureAsync(string reservoir)
    {
        using var dir = new TempDirectory();
        // Hop 16 at 1 kHz: 62.5 windows/s, the daemon's periodic work (telemetry each second, drift checks) spread
        // over more windows than at the default hop, as it is on a faster sensor.
        var daemon = TestDaemon.Build(dir, $"--mqtt:embeddedPort={TestDaemon.FreePort()}", "--pipeline:hop=16", reservoir);
        using var host = daemon.Host;
        await host.StartAsync();
        try
        {
            var metrics = host.Services.GetRequiredService<PipelineMetrics>();
            var trim = host.Services.GetServices<IHostedService>().OfType<StartupMemoryTrim>().Single();
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (trim.Trims == 0 || metrics.Inferences < 200)
            {
                Assert.True(DateTime.UtcNow < deadline, $"start-up not over in 60 s: {metrics.Inferences} inferences, {trim.Trims} trims");
                await Task.Delay(50);
            }
            await Task.Delay(1000);
            using var sampler = new AllocationSampler();
            sampler.Start();
            long inferences0 = metrics.Inferences, bytes0 = GC.GetTotalAllocatedBytes(precise: true);
            await Task.Delay(6000);
            long inferences = metrics.Inferences - inferences0, bytes = GC.GetTotalAllocatedBytes(precise: true) - bytes0;
            Assert.True(inferences > 100, $"{inferences} inferences in 6 s");
            double perInference = (double)bytes / inferences;
            sampler.Stop();
            output.WriteLine($"{reservoir}: {bytes} bytes over {inferences} inferences, {perInference:F0} per inference");
            foreach (string line in sampler.Top(25)) output.WriteLine("  " + line);
            return perInference;
        }
        finally
        {
            await host.StopAsync(TimeSpan.FromSeconds(20));
        }
    }
}
