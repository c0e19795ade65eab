using EdgeAgent.Daemon.Pipeline;
using EdgeAgent.Daemon.Reservoir;
using EdgeAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace EdgeAgent.Tests.Pipeline;

/// <summary>
/// The inference loop of the whole in-process daemon (reservoir keeping every window, drift monitor collecting its
/// reference, console-less MQTT and GPIO subscribers, embedded broker) allocates nothing per window once warm:
/// the loop's own per-thread counter over a few hundred windows stays under a small bound.
/// </summary>
public class InferenceAllocationTests
{
    [Fact]
    public async Task SteadyStateInferenceLoopAllocatesNothingPerWindow()
    {
        using var dir = new TempDirectory();
        // Hop 4 at 1 kHz: 250 windows/s. The reservoir (capacity 2000) keeps every one of them, faster than its
        // writer stores them, and the drift monitor is still collecting its 500-window reference: the two paths
        // that used to copy or allocate per window.
        var daemon = TestDaemon.Build(dir, $"--mqtt:embeddedPort={TestDaemon.FreePort()}", "--pipeline:hop=4");
        using var host = daemon.Host;
        await host.StartAsync();
        try
        {
            var metrics = host.Services.GetRequiredService<PipelineMetrics>();
            var reservoir = (LiteDbReservoir)host.Services.GetRequiredService<IReservoir>();
            await WaitForInferences(metrics, 100);   // warm-up: first-use paths taken
            long inferences0 = metrics.Inferences, bytes0 = metrics.InferenceAllocatedBytes;
            int pending0 = reservoir.PendingSamplesCreated;
            await WaitForInferences(metrics, inferences0 + 300);
            long inferences = metrics.Inferences - inferences0, bytes = metrics.InferenceAllocatedBytes - bytes0;
            // The reservoir makes a pending sample (a window and an embedding, ~0.9 KB here) only when its writer has
            // fallen further behind than ever before, up to its fixed budget: that growth is allowed, nothing else.
            long growth = (reservoir.PendingSamplesCreated - pending0) * 1024L;
            // Not zero: a rare thread-pool or channel segment growth may land in the interval; one window's
            // copies (3 x 64 floats here) would already be ~800 bytes per window.
            Assert.True(bytes - growth <= 64 * inferences,
                $"{bytes} bytes over {inferences} inferences ({(double)bytes / inferences:F1} per window), {growth} of them pending samples made");
        }
        finally
        {
            await host.StopAsync(TimeSpan.FromSeconds(20));
        }
    }

    private static async Task WaitForInferences(PipelineMetrics metrics, long count)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (metrics.Inferences < count)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{metrics.Inferences} inferences in 60 s, waiting for {count}");
            await Task.Delay(50);
        }
    }
}
