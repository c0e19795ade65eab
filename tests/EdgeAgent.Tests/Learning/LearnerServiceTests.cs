using System.Diagnostics;
using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Learning;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace EdgeAgent.Tests.Learning;

public class LearnerServiceTests
{
    private static void Teach(LearningFixture f, int perClass, Random random, bool heldOut = false)
    {
        foreach (var (cls, label) in new[] { (0, "a"), (1, "b"), (2, "c") })
            for (int i = 0; i < perClass; i++) f.Reservoir.Add(f.Sample(cls, random), label, heldOut);
    }

    private static async Task<bool> WaitFor(Func<bool> condition, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > timeout) return false;
            await Task.Delay(50);
        }
        return true;
    }

    [Fact]
    public async Task PausedLearnerWaitsAndResumedOneUpdatesOnItsLabelThreshold()
    {
        using var f = new LearningFixture();
        await f.ServeBaseModelAsync();
        var options = new LearningOptions { MinNewLabels = 30, Epochs = 20, Nice = 0 };
        using var learner = new LearnerService(f.Updater(options), f.Reservoir, f.Events, options, TimeProvider.System, NullLogger<LearnerService>.Instance);
        await learner.StartAsync(CancellationToken.None);
        try
        {
            Assert.True((bool)learner.Pause()["paused"]!);
            var random = new Random(3);
            Teach(f, 10, random, heldOut: true);
            Teach(f, 30, random);
            Assert.Equal(120, (long)learner.State()["new_labels"]!);
            await Task.Delay(2500); // more than two polls
            Assert.Equal(0, (int)learner.State()["runs"]!);
            Assert.Equal("1.0.0", f.Host.Current!.Stored.Version);
            await Assert.ThrowsAsync<InvalidOperationException>(() => learner.LearnNowAsync(CancellationToken.None));

            Assert.False((bool)learner.Resume()["paused"]!);
            Assert.True(await WaitFor(() => (int)learner.State()["runs"]! == 1, TimeSpan.FromSeconds(60)), "no update within 60 s of resuming");
            Assert.Equal("1.0.1-device.1", f.Host.Current!.Stored.Version);
            Assert.Equal("labels", (string?)learner.State()["last"]!["trigger"]);
            Assert.Contains(f.Published, e => e.Kind == LearningEvents.Paused);
            Assert.Contains(f.Published, e => e.Kind == LearningEvents.Resumed);

            // Below the threshold nothing runs by itself, but learn/now does.
            Teach(f, 2, random);
            var now = await learner.LearnNowAsync(CancellationToken.None);
            Assert.Equal("command", (string?)now.Data["trigger"]);
            Assert.NotEqual(LearningVerdict.Skipped, now.Verdict);
        }
        finally
        {
            await learner.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task StoppingDuringAnUpdateAbandonsItPromptlyAndKeepsTheModel()
    {
        using var f = new LearningFixture();
        await f.ServeBaseModelAsync();
        // Enough work that the update is surely still training when the stop comes.
        var options = new LearningOptions { MinNewLabels = 1_000_000, Epochs = 1000, TimeBudgetSeconds = 600, Nice = 0 };
        using var learner = new LearnerService(f.Updater(options), f.Reservoir, f.Events, options, TimeProvider.System, NullLogger<LearnerService>.Instance);
        var random = new Random(4);
        Teach(f, 10, random, heldOut: true);
        Teach(f, 300, random);
        await learner.StartAsync(CancellationToken.None);
        var update = learner.LearnNowAsync(CancellationToken.None);
        Assert.True(await WaitFor(() => (bool)learner.State()["running"]!, TimeSpan.FromSeconds(10)), "the update did not start");
        await Task.Delay(300);

        var clock = Stopwatch.StartNew();
        await learner.StopAsync(CancellationToken.None);
        clock.Stop();

        var outcome = await update;
        Assert.Equal(LearningVerdict.Abandoned, outcome.Verdict);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"stop took {clock.Elapsed.TotalSeconds:F1} s");
        Assert.Equal("1.0.0", f.Host.Current!.Stored.Version);
        Assert.Single(f.Store.List("vibration"));
        Assert.Contains(f.Published, e => e.Kind == LearningEvents.Abandoned);
        Assert.False((bool)learner.State()["running"]!);
    }
}
