namespace EdgeAgent.Daemon.Reservoir;

/// <summary>
/// A small fixed budget of <see cref="PendingSample"/>s: at most <c>capacity</c> exist at a time, created on
/// demand and recycled. When all are on their way to the writer, <see cref="TryRent"/> says so instead of
/// allocating, and the caller drops the sample (counted), so neither allocation nor memory grows when the writer
/// falls behind. Samples of another size (the model changed) are dropped rather than kept.
/// </summary>
internal sealed class PendingSamplePool(int capacity)
{
    private readonly object _gate = new();
    private readonly PendingSample[] _free = new PendingSample[capacity];
    private int _count;
    private int _outstanding;

    public PendingSample? TryRent(int windowLength, int embeddingLength)
    {
        lock (_gate)
        {
            while (_count > 0)
            {
                var sample = _free[--_count];
                _free[_count] = null!;
                if (sample.Window.Length == windowLength && sample.Embedding.Length == embeddingLength)
                {
                    _outstanding++;
                    return sample;
                }
            }
            if (_outstanding >= _free.Length) return null;
            _outstanding++;
        }
        return new PendingSample(windowLength, embeddingLength);
    }

    public void Return(PendingSample sample)
    {
        lock (_gate)
        {
            _outstanding--;
            if (_count < _free.Length) _free[_count++] = sample;
        }
    }
}
