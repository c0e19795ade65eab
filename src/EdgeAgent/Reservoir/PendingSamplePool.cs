namespace EdgeAgent.Daemon.Reservoir;

/// <summary>
/// A budget of <see cref="PendingSample"/>s for one sample size (a model's window and embedding), created on demand
/// and recycled: a sample is made only when every one made so far is on its way to the writer, so the pool grows to
/// as far behind as the writer has ever been (the whole budget on a first boot at 1 kHz, one sample on a device whose
/// full reservoir keeps 3 windows in 1000) and the inference thread allocates nothing from then on. When the whole
/// budget is in flight <see cref="TryRent"/> says so and the caller drops the window (counted). Samples of a previous
/// size are dropped when they come back.
/// </summary>
internal sealed class PendingSamplePool(int capacity)
{
    private readonly object _gate = new();
    private readonly PendingSample[] _free = new PendingSample[capacity];
    private int _count;
    private int _created;
    private int _windowLength = -1;
    private int _embeddingLength = -1;

    public int Capacity => _free.Length;

    /// <summary>Samples of the current size made so far (at most <see cref="Capacity"/>).</summary>
    public int Created
    {
        get { lock (_gate) return _created; }
    }

    public PendingSample? TryRent(int windowLength, int embeddingLength)
    {
        lock (_gate)
        {
            if (windowLength != _windowLength || embeddingLength != _embeddingLength)
            {
                // A new model: the samples of the old size are let go, those in flight when they come back.
                Array.Clear(_free);
                (_count, _created, _windowLength, _embeddingLength) = (0, 0, windowLength, embeddingLength);
            }
            if (_count > 0)
            {
                var sample = _free[--_count];
                _free[_count] = null!;
                return sample;
            }
            if (_created == _free.Length) return null;
            _created++;
            return new PendingSample(windowLength, embeddingLength);
        }
    }

    /// <summary>
    /// Makes the first sample of this size now, if none has been made: a restart on a full reservoir keeps a window
    /// only every few hundred inferences, and that first kept window would otherwise allocate its sample (window and
    /// embedding, ~18 KB for a 3584-wide embedding) on the inference thread in the middle of steady state.
    /// </summary>
    public void Prime(int windowLength, int embeddingLength)
    {
        lock (_gate)
        {
            if (windowLength == _windowLength && embeddingLength == _embeddingLength && _created > 0) return;
            var sample = TryRent(windowLength, embeddingLength);
            if (sample is not null) _free[_count++] = sample;
        }
    }

    public void Return(PendingSample sample)
    {
        lock (_gate)
            if (_count < _free.Length && sample.Window.Length == _windowLength && sample.Embedding.Length == _embeddingLength)
                _free[_count++] = sample;
    }
}
