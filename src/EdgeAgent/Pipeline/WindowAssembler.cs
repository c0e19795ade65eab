namespace EdgeAgent.Daemon.Pipeline;

/// <summary>
/// Cuts the sample stream into overlapping windows of <see cref="WindowSize"/> samples every <see cref="Hop"/>
/// samples. Keeps the last window's worth of samples in a ring; emitting a window is one or two copies.
/// </summary>
public sealed class WindowAssembler
{
    private readonly float[] _ring;
    private readonly long[] _timestamps;
    private readonly WindowQueue _queue;
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _epochWall;
    private readonly long _epochTimestamp;
    private long _count;
    private long _sequence;

    public WindowAssembler(int windowSize, int channels, int hop, WindowQueue queue, TimeProvider time)
    {
        if (windowSize < 1) throw new ArgumentOutOfRangeException(nameof(windowSize), windowSize, "a window needs at least one sample");
        if (hop < 1 || hop > windowSize)
            throw new ArgumentOutOfRangeException(nameof(hop), hop, $"pipeline:hop must be between 1 and the model's window of {windowSize} samples");
        WindowSize = windowSize;
        Channels = channels;
        Hop = hop;
        _ring = new float[windowSize * channels];
        _timestamps = new long[windowSize];
        _queue = queue;
        _time = time;
        _epochWall = time.GetUtcNow();
        _epochTimestamp = time.GetTimestamp();
    }

    public int WindowSize { get; }
    public int Channels { get; }
    public int Hop { get; }

    /// <summary>Adds one sample taken at <paramref name="timestamp"/> (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public void Add(long timestamp, ReadOnlySpan<float> sample)
    {
        int position = (int)(_count % WindowSize);
        sample[..Channels].CopyTo(_ring.AsSpan(position * Channels, Channels));
        _timestamps[position] = timestamp;
        _count++;
        if (_count < WindowSize || (_count - WindowSize) % Hop != 0) return;

        var window = _queue.Rent();
        if (window is null) return;
        window.Reset(WindowSize * Channels, Channels);
        // The oldest sample sits just after the newest one in the ring.
        int oldest = (int)(_count % WindowSize);
        var destination = window.Span;
        int tail = (WindowSize - oldest) * Channels;
        _ring.AsSpan(oldest * Channels, tail).CopyTo(destination);
        _ring.AsSpan(0, oldest * Channels).CopyTo(destination[tail..]);
        window.Start = ToWallClock(_timestamps[oldest]);
        window.End = ToWallClock(timestamp);
        window.Sequence = ++_sequence;
        _queue.Publish(window);
    }

    private DateTimeOffset ToWallClock(long timestamp) => _epochWall + _time.GetElapsedTime(_epochTimestamp, timestamp);
}
