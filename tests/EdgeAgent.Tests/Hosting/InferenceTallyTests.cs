using EdgeAgent.Daemon.Hosting;
using EdgeAgent.Daemon.Inference;
using Xunit;

namespace EdgeAgent.Tests.Hosting;

public class InferenceTallyTests
{
    private static InferenceRecord Record(long sequence, string stable, string raw, double latencyMs) =>
        new(sequence, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, "1.0.0", 0, 0.9f, 0, stable, 0.8f, latencyMs) { RawLabel = raw };

    [Fact]
    public void CountsClassesInOrderOfFirstAppearanceAndStableChanges()
    {
        var tally = new InferenceTally();
        tally.Add(Record(1, "unknown", "normal", 1));
        tally.Add(Record(2, "normal", "normal", 1));
        tally.Add(Record(3, "normal", "idle", 1));
        tally.Add(Record(4, "idle", "idle", 1));
        tally.Add(Record(5, "normal", "normal", 1));

        Assert.Equal(5, tally.Count);
        Assert.Equal("unknown 1, normal 3, idle 1", tally.StableClasses);
        Assert.Equal("normal 3, idle 2", tally.RawClasses);
        Assert.Equal(3, tally.StableChanges);
    }

    [Fact]
    public void LatencyQuantilesAreNearestRankOverTheRecentWindow()
    {
        var tally = new InferenceTally();
        for (int i = 1; i <= 100; i++) tally.Add(Record(i, "normal", "normal", i));
        Assert.Equal(50, tally.LatencyQuantileMs(0.5));
        Assert.Equal(99, tally.LatencyQuantileMs(0.99));
        Assert.Equal(100, tally.LatencyQuantileMs(1.0));
        Assert.Equal(50.5, tally.MeanLatencyMs, 6);
        Assert.Equal(100, tally.MaxLatencyMs);

        // Older latencies leave the window; the mean and the maximum still cover the whole run.
        for (int i = 0; i < InferenceTally.LatencyWindow; i++) tally.Add(Record(1000 + i, "normal", "normal", 0.5));
        Assert.Equal(0.5, tally.LatencyQuantileMs(0.99));
        Assert.Equal(100, tally.MaxLatencyMs);
    }

    [Fact]
    public void EmptyTallyReportsNothingSeen()
    {
        var tally = new InferenceTally();
        Assert.Equal("none", tally.StableClasses);
        Assert.Equal(0, tally.LatencyQuantileMs(0.5));
        Assert.Equal(0, tally.MeanLatencyMs);
    }
}
