namespace EdgeAgent.Daemon.Reservoir;

/// <summary>
/// A small bounded pool of <see cref="PendingSample"/>s. Samples of another size (the model changed) are
/// dropped rather than kept, so the pool holds only buffers the current model can use.
/// </summary>
internal sealed class PendingSamplePool(int capacity)
{
    private readonly object _gate = new();
    private readonly PendingSample[] _free = new PendingSample[capacity];
    private int _count;

    public PendingSample Rent(int windowLength, int embeddingLength)
    {
        lock (_gate)
        {
            while (_count > 0)
            {
                var sample = _free[--_count];
                _free[_count] = null!;
                if (sample.Window.Length == windowLength && sample.Embedding.Length == embeddingLength) return sample;
            }
        }
        return new PendingSample(windowLength, embeddingLength);
    }

    public void Return(PendingSample sample)
    {
        lock (_gate)
            if (_count < _free.Length) _free[_count++] = sample;
    }
}
