namespace EdgeAgent.Daemon.Pipeline;

/// <summary>
/// The latest samples of the pipeline sensor, kept while no model is served yet: sampling starts with the
/// process, so when the model has loaded its first window is (mostly) already there instead of being filled
/// from then on. A ring of at most <see cref="Capacity"/> samples; dropped once the first window assembler exists.
/// </summary>
internal sealed class SampleHistory
{
    private readonly float[] _values;
    private readonly long[] _timestamps;
    private readonly int _channels;
    private long _count;

    public SampleHistory(int capacity, int channels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        Capacity = capacity;
        _channels = channels;
        _values = new float[capacity * channels];
        _timestamps = new long[capacity];
    }

    public int Capacity { get; }

    /// <summary>Samples held (at most <see cref="Capacity"/>).</summary>
    public int Count => (int)Math.Min(_count, Capacity);

    public void Add(long timestamp, ReadOnlySpan<float> sample)
    {
        int position = (int)(_count % Capacity);
        sample[.._channels].CopyTo(_values.AsSpan(position * _channels, _channels));
        _timestamps[position] = timestamp;
        _count++;
    }

    /// <summary>Feeds the newest samples, oldest first, to <paramref name="assembler"/>: at most one window's worth, so it emits at most one window.</summary>
    public int ReplayInto(WindowAssembler assembler)
    {
        if (assembler.Channels != _channels)
            throw new ArgumentException($"the history holds {_channels}-channel samples, the assembler takes {assembler.Channels}");
        int replay = Math.Min(Count, assembler.WindowSize);
        for (long n = _count - replay; n < _count; n++)
        {
            int position = (int)(n % Capacity);
            assembler.Add(_timestamps[position], _values.AsSpan(position * _channels, _channels));
        }
        return replay;
    }
}
