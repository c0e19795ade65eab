using EdgeAgent.Daemon.Pipeline;
using Xunit;

namespace EdgeAgent.Tests.Pipeline;

public class PostProcessorTests
{
    [Fact]
    public void StableClassNeedsHysteresisConsecutiveWindowsAboveThreshold()
    {
        var post = new PostProcessor(classes: 2, inputsAreProbabilities: true, smoothing: 1, threshold: 0.6, hysteresis: 3);
        Assert.False(post.Process([0.9f, 0.1f]));
        Assert.False(post.Process([0.9f, 0.1f]));
        Assert.True(post.Process([0.9f, 0.1f]));
        Assert.Equal(0, post.StableClass);
        // Two windows of class 1, then one of class 0: not enough to switch.
        post.Process([0.1f, 0.9f]);
        post.Process([0.1f, 0.9f]);
        post.Process([0.9f, 0.1f]);
        Assert.Equal(0, post.StableClass);
        // A confident leader below the threshold never switches.
        for (int i = 0; i < 5; i++) post.Process([0.45f, 0.55f]);
        Assert.Equal(0, post.StableClass);
        for (int i = 0; i < 3; i++) post.Process([0.2f, 0.8f]);
        Assert.Equal(1, post.StableClass);
    }

    [Fact]
    public void SmoothingAveragesTheLastWindows()
    {
        var post = new PostProcessor(2, true, smoothing: 4, threshold: 0, hysteresis: 1);
        post.Process([1f, 0f]);
        post.Process([1f, 0f]);
        post.Process([0f, 1f]);
        post.Process([0f, 1f]);
        Assert.Equal(0.5f, post.SmoothedProbabilities[0], 5);
        post.Process([0f, 1f]); // the first window falls out
        Assert.Equal(0.25f, post.SmoothedProbabilities[0], 5);
        Assert.Equal(1, post.RawClass);
    }

    [Fact]
    public void LogitsGoThroughSoftmax()
    {
        var post = new PostProcessor(3, false, 1, 0, 1);
        post.Process([1f, 2f, 3f]);
        float e1 = MathF.Exp(1), e2 = MathF.Exp(2), e3 = MathF.Exp(3);
        Assert.Equal(e3 / (e1 + e2 + e3), post.RawScore, 5);
        Assert.Equal(2, post.RawClass);
    }

    [Fact]
    public void ProcessDoesNotAllocate()
    {
        var post = new PostProcessor(5, false, 8, 0.5, 3);
        float[] scores = [0.1f, 2f, 0.3f, -1f, 0.5f];
        post.Process(scores);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) post.Process(scores);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
