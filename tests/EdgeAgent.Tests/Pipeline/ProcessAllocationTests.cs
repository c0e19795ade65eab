using EdgeAgent.Daemon.Hosting;
using EdgeAgent.Daemon.Pipeline;
using EdgeAgent.Daemon.Reservoir;
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
        // A full reservoir that has seen 100,000 windows (capacity 10): Algorithm R keeps one new window in 10,000, so the
        // interval holds no write in all likelihood and this is the pipeline's own cost, as on a device that has run a while.
        double perInference = await MeasureAsync("--reservoir:capacity=10", agedSeen: 100_000);
        // Measured ~0.2 KB, most of it this test host's own background: the daemon's telemetry batch each second is not
        // even dispatched (no subscriber on the embedded broker, see BrokerSubscriptions) and the drift check measures
        // into a reused array. It was ~0.35 KB with the batch dispatched by the broker, a publish interceptor and a PSI
        // array per check (and the test's own Task.Delay polling, ~10 KB/s, counted), ~1.1 KB with the batch sent to the
        // broker over the loopback socket (~7.7 KB a batch), 5.8 KB with a JSON object per inference, a LiteDB count
        // query per batch and a channel waiter per wait. The MQTT route itself is bounded per message by
        // InProcessBrokerTests. Not tighter: the figure is per inference of periodic work, so a loaded machine that
        // drops windows raises it.
        Assert.True(perInference <= 512, $"{perInference:F0} bytes per inference over the whole process");
    }

    [Fact]
    public async Task ReservoirWritesCostLiteDbsTransactionsOnlyNoReopenOrRescan()
    {
        // Capacity 2000: every window is written. LiteDB's own transaction (pages, index nodes, WAL, checkpoints) is
        // ~35 KB per inference here, nearly all of it the write: ~28 KB with a checkpoint every 48 log pages, but this
        // test's samples are small (one or two pages), so the 32 pages that suit the bench model's ~10 KB samples mean
        // more checkpoints per write here (~41 KB while every write also updated the meta document, ~45 KB with Upsert
        // rather than Update, ~60 KB with the index on sample ids it had before); the periodic reopen that bounded its
        // cache before cost 180 KB per write.
        double perInference = await MeasureAsync("--reservoir:capacity=2000");
        Assert.True(perInference <= 48 * 1024, $"{perInference:F0} bytes per inference over the whole process");
    }

    private const int MeasuredInferences = 375;

    /// <summary>Offers <paramref name="seen"/> windows of the test model's shape (64 x 3, embedding 3) through Algorithm R.</summary>
    private static void Age(string path, int capacity, long seen)
    {
        using var reservoir = new LiteDbReservoir(new ReservoirSettings(path, capacity, 10, 0, 64L << 20));
        var window = new float[64 * 3];
        float[] embedding = [0.5f, 0.25f, 0.125f];
        var at = DateTimeOffset.UtcNow;
        var offer = new ReservoirOffer(at, at, "0.1", 3, "quiet", 0.9f);
        while (reservoir.Seen < seen)
        {
            reservoir.Offer(offer, window, embedding);
            reservoir.Flush();
        }
    }

    private async Task<double> MeasureAsync(string settings, long agedSeen = 0)
    {
        using var dir = new TempDirectory();
        if (agedSeen > 0) Age(Path.Combine(dir.File("state"), "reservoir.db"), capacity: 10, agedSeen);
        // Hop 16 at 1 kHz: 62.5 windows/s, the daemon's periodic work (telemetry each second, drift checks) spread
        // over more windows than at the default hop, as it is on a faster sensor.
        var daemon = TestDaemon.Build(dir, $"--mqtt:embeddedPort={TestDaemon.FreePort()}", "--pipeline:hop=16", settings);
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
            var reservoir = host.Services.GetRequiredService<IReservoir>();
            long inferences0 = metrics.Inferences, bytes0 = GC.GetTotalAllocatedBytes(precise: true), writes0 = reservoir.GetStats().Writes;
            // N inferences (~6 s at 62.5 windows/s: six telemetry batches, the drift checks), not a fixed time.
            var until = DateTime.UtcNow.AddSeconds(60);
            while (metrics.Inferences - inferences0 < MeasuredInferences)
            {
                Assert.True(DateTime.UtcNow < until, $"{metrics.Inferences - inferences0} of {MeasuredInferences} inferences in 60 s");
                // Blocking, not Task.Delay: each delay is a timer and a promise (~0.2 KB), 10 KB/s at this polling rate,
                // which would be counted as the daemon's.
                Thread.Sleep(20);
            }
            long inferences = metrics.Inferences - inferences0, bytes = GC.GetTotalAllocatedBytes(precise: true) - bytes0;
            long writes = reservoir.GetStats().Writes - writes0;
            double perInference = (double)bytes / inferences;
            sampler.Stop();
            output.WriteLine($"{settings}: {bytes} bytes over {inferences} inferences ({writes} reservoir writes), {perInference:F0} per inference");
            foreach (string line in sampler.Top(25)) output.WriteLine("  " + line);
            return perInference;
        }
        finally
        {
            await host.StopAsync(TimeSpan.FromSeconds(20));
        }
    }
}
