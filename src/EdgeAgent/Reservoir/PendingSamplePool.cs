namespace EdgeAgent.Daemon.Reservoir;

/// <summary>
/// A fixed budget of <see cref="PendingSample"/>s, all created when a sample size is first asked for (a new
/// model) and recycled from then on: the inference thread never allocates for the reservoir, however far the
/// writer falls behind or whenever it first does. When every sample is on its way to the writer,
/// <see cref="TryRent"/> says so and the caller drops the window (counted). Samples of a previous size are
/// dropped when they come back.
/// </summary>
internal sealed class PendingSamplePool(int capacity)
{
    private readonly object _gate = new();
    private readonly PendingSample[] _free = new PendingSample[capacity];
    private int _count;
    private int _windowLength = -1;
    private int _embeddingLength = -1;

    public int Capacity => _free.Length;

    public PendingSample? TryRent(int windowLength, int embeddingLength)
    {
        lock (_gate)
        {
            if (windowLength != _windowLength || embeddingLength != _embeddingLength) Refill(windowLength, embeddingLength);
            if (_count == 0) return null;
            var sample = _free[--_count];
            _free[_count] = null!;
            return sample;
        }
    }

    public void Return(PendingSample sample)
    {
        lock (_gate)
            if (_count < _free.Length && sample.Window.Length == _windowLength && sample.Embedding.Length == _embeddingLength)
                _free[_count++] = sample;
    }

    private void Refill(int windowLength, int embeddingLength)
    {
        _windowLength = windowLength;
        _embeddingLength = embeddingLength;
        for (_count = 0; _count < _free.Length; _count++) _free[_count] = new PendingSample(windowLength, embeddingLength);
    }
}
