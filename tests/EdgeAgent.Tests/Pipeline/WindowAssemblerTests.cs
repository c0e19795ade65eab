using EdgeAgent.Daemon.Inference;
using EdgeAgent.Daemon.Pipeline;
using Xunit;

namespace EdgeAgent.Tests.Pipeline;

public class WindowAssemblerTests
{
    [Fact]
    public void WindowsOverlapByWindowMinusHopAndAreTimeOrdered()
    {
        var metrics = new PipelineMetrics();
        var queue = new WindowQueue(16, metrics);
        var assembler = new WindowAssembler(windowSize: 4, channels: 2, hop: 2, queue, TimeProvider.System);
        for (int i = 0; i < 10; i++) assembler.Add(i * 1000, [i, 100 + i]);
        var windows = new List<float[]>();
        while (queue.Reader.TryRead(out var w)) windows.Add(w.Span.ToArray());
        // Windows end at samples 3, 5, 7, 9.
        Assert.Equal(4, windows.Count);
        Assert.Equal([0f, 100, 1, 101, 2, 102, 3, 103], windows[0]);
        Assert.Equal([6f, 106, 7, 107, 8, 108, 9, 109], windows[3]);
    }

    [Fact]
    public void AFullQueueDropsAndCountsWindowsWithoutGrowing()
    {
        var metrics = new PipelineMetrics();
        var queue = new WindowQueue(2, metrics);
        var assembler = new WindowAssembler(4, 1, 1, queue, TimeProvider.System);
        for (int i = 0; i < 100; i++) assembler.Add(i, [i]);
        Assert.Equal(2, queue.Reader.Count);
        Assert.Equal(97 - 2, metrics.DroppedWindows);
        Assert.Equal(2, metrics.Windows);
    }

    [Fact]
    public void SteadyStateWindowingDoesNotAllocate()
    {
        var metrics = new PipelineMetrics();
        var queue = new WindowQueue(4, metrics);
        var assembler = new WindowAssembler(64, 3, 16, queue, TimeProvider.System);
        float[] sample = [1, 2, 3];
        for (int i = 0; i < 200; i++)
        {
            assembler.Add(i, sample);
            while (queue.Reader.TryRead(out var w)) queue.Return(w);
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10_000; i++)
        {
            assembler.Add(i, sample);
            while (queue.Reader.TryRead(out var w)) queue.Return(w);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void HopLargerThanTheWindowIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new WindowAssembler(8, 1, 9, new WindowQueue(1, new PipelineMetrics()), TimeProvider.System));

    [Fact]
    public void PreprocessingCentresAndScalesPerChannel()
    {
        var pre = new Preprocessing([1f, 10f], [2f, 5f], removeWindowMean: false);
        float[] output = new float[4];
        pre.Apply([3f, 20f, 5f, 0f], output);
        Assert.Equal([1f, 2f, 2f, -2f], output);
        var ac = new Preprocessing([0f], [1f], removeWindowMean: true);
        float[] acOut = new float[3];
        ac.Apply([1f, 2f, 3f], acOut);
        Assert.Equal([-1f, 0f, 1f], acOut);
    }

    [Fact]
    public void ChannelMajorPreprocessingWritesOnePlanePerChannel()
    {
        // Two channels, three steps, time-major in: [t0c0, t0c1, t1c0, t1c1, t2c0, t2c1].
        var pre = new Preprocessing([0f, 0f], [1f, 2f], removeWindowMean: true, channelMajor: true);
        float[] output = new float[6];
        pre.Apply([1f, 10f, 2f, 20f, 3f, 30f], output);
        Assert.Equal([-1f, 0f, 1f, -5f, 0f, 5f], output);
    }
}
