using System.Threading.Channels;

namespace EdgeAgent.Daemon.Pipeline;

/// <summary>
/// The bounded hand-off between the sampler and the inference loop, with a fixed pool of window buffers:
/// when inference falls behind, new windows are dropped and counted, so memory stays flat under any load
/// and nothing is allocated per window.
/// </summary>
public sealed class WindowQueue
{
    private readonly Channel<Window> _ready;
    private readonly Channel<Window> _free;
    private readonly PipelineMetrics _metrics;

    public WindowQueue(int capacity, PipelineMetrics metrics)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _metrics = metrics;
        Capacity = capacity;
        _ready = Channel.CreateBounded<Window>(new BoundedChannelOptions(capacity) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        // Capacity queued + one being filled + one being inferred.
        _free = Channel.CreateBounded<Window>(new BoundedChannelOptions(capacity + 2) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
        for (int i = 0; i < capacity + 2; i++) _free.Writer.TryWrite(new Window());
    }

    public int Capacity { get; }

    public ChannelReader<Window> Reader => _ready.Reader;

    /// <summary>A free buffer for the producer, or null (window dropped and counted) when all are in use.</summary>
    public Window? Rent()
    {
        if (_free.Reader.TryRead(out var window)) return window;
        _metrics.AddDroppedWindow();
        return null;
    }

    /// <summary>Queues a filled window; when the queue is full the window goes back to the pool and is counted as dropped.</summary>
    public void Publish(Window window)
    {
        if (_ready.Writer.TryWrite(window))
        {
            _metrics.AddWindow();
            return;
        }
        _metrics.AddDroppedWindow();
        Return(window);
    }

    /// <summary>Gives a buffer back to the pool (the consumer, after inference).</summary>
    public void Return(Window window) => _free.Writer.TryWrite(window);

    public void Complete() => _ready.Writer.TryComplete();

    /// <summary>Completes the queue when <paramref name="stopping"/> fires, so the consumer can wait without a token (see <see cref="Control.Broadcast{T}.Subscription.CompleteOn"/>).</summary>
    public CancellationTokenRegistration CompleteOn(CancellationToken stopping) =>
        stopping.UnsafeRegister(static queue => ((WindowQueue)queue!).Complete(), this);
}
