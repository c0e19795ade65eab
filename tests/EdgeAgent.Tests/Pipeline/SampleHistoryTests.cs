using EdgeAgent.Daemon.Pipeline;
using Xunit;

namespace EdgeAgent.Tests.Pipeline;

public class SampleHistoryTests
{
    [Fact]
    public void ReplaysTheNewestWindowOfSamplesAsExactlyOneWindow()
    {
        var history = new SampleHistory(capacity: 8, channels: 2);
        for (int i = 0; i < 11; i++) history.Add(i * 1000, [i, 100 + i]); // the ring now holds samples 3..10
        Assert.Equal(8, history.Count);
        var queue = new WindowQueue(16, new PipelineMetrics());
        var assembler = new WindowAssembler(windowSize: 4, channels: 2, hop: 2, queue, TimeProvider.System);

        Assert.Equal(4, history.ReplayInto(assembler));

        Assert.True(queue.Reader.TryRead(out var window));
        Assert.Equal([7f, 107, 8, 108, 9, 109, 10, 110], window!.Span.ToArray());
        Assert.False(queue.Reader.TryRead(out _));
        // The assembler goes on from the replayed samples: the next window (hop 2) ends at sample 12.
        assembler.Add(11_000, [11, 111]);
        assembler.Add(12_000, [12, 112]);
        Assert.True(queue.Reader.TryRead(out var next));
        Assert.Equal([9f, 109, 10, 110, 11, 111, 12, 112], next!.Span.ToArray());
    }

    [Fact]
    public void FewerSamplesThanAWindowAreAllReplayedAndTheWindowCompletesLive()
    {
        var history = new SampleHistory(capacity: 64, channels: 1);
        for (int i = 0; i < 3; i++) history.Add(i, [i]);
        var queue = new WindowQueue(4, new PipelineMetrics());
        var assembler = new WindowAssembler(windowSize: 5, channels: 1, hop: 5, queue, TimeProvider.System);

        Assert.Equal(3, history.ReplayInto(assembler));
        Assert.False(queue.Reader.TryRead(out _));
        assembler.Add(3, [3]);
        assembler.Add(4, [4]);
        Assert.True(queue.Reader.TryRead(out var window));
        Assert.Equal([0f, 1, 2, 3, 4], window!.Span.ToArray());
    }

    [Fact]
    public void AHistoryOfOtherChannelCountsIsRefusedNamingBoth()
    {
        var history = new SampleHistory(8, channels: 3);
        var assembler = new WindowAssembler(4, channels: 2, hop: 1, new WindowQueue(2, new PipelineMetrics()), TimeProvider.System);
        var e = Assert.Throws<ArgumentException>(() => history.ReplayInto(assembler));
        Assert.Contains("3-channel", e.Message);
        Assert.Contains("takes 2", e.Message);
    }
}
