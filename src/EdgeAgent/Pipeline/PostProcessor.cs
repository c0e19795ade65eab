namespace EdgeAgent.Daemon.Pipeline;

/// <summary>
/// Turns raw class scores into a decision that does not flicker: softmax (unless the model already outputs
/// probabilities), a moving average of the probabilities over the last <c>smoothing</c> windows, and a
/// stable class that changes only when a new class leads the smoothed probabilities, at or above
/// <c>threshold</c>, for <c>hysteresis</c> consecutive windows. Allocation-free after construction.
/// </summary>
public sealed class PostProcessor
{
    private readonly int _classes;
    private readonly bool _inputsAreProbabilities;
    private readonly float _threshold;
    private readonly int _hysteresis;
    private readonly float[] _history;     // smoothing ring: [slot][class]
    private readonly float[] _sum;
    private readonly float[] _probabilities;
    private int _filled;
    private int _slot;
    private int _candidate = -1;
    private int _candidateRuns;

    public PostProcessor(int classes, bool inputsAreProbabilities, int smoothing, double threshold, int hysteresis)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(smoothing, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hysteresis, 1);
        _classes = classes;
        _inputsAreProbabilities = inputsAreProbabilities;
        _threshold = (float)threshold;
        _hysteresis = hysteresis;
        _history = new float[smoothing * classes];
        _sum = new float[classes];
        _probabilities = new float[classes];
        SmoothedProbabilities = new float[classes];
    }

    /// <summary>The class last accepted, or -1 before any class qualified.</summary>
    public int StableClass { get; private set; } = -1;

    public int RawClass { get; private set; }
    public float RawScore { get; private set; }

    /// <summary>The moving average of probabilities after the latest <see cref="Process"/>.</summary>
    public float[] SmoothedProbabilities { get; }

    public float StableScore => StableClass < 0 ? 0 : SmoothedProbabilities[StableClass];

    /// <summary>Feeds one window's scores; returns true when the stable class changed.</summary>
    public bool Process(ReadOnlySpan<float> scores)
    {
        if (scores.Length != _classes) throw new ArgumentException($"expected {_classes} scores, got {scores.Length}");
        var p = _probabilities.AsSpan();
        if (_inputsAreProbabilities) scores.CopyTo(p);
        else Softmax(scores, p);

        RawClass = ArgMax(p);
        RawScore = p[RawClass];

        int smoothing = _history.Length / _classes;
        var slot = _history.AsSpan(_slot * _classes, _classes);
        for (int c = 0; c < _classes; c++)
        {
            _sum[c] += p[c] - slot[c];
            slot[c] = p[c];
        }
        _slot = (_slot + 1) % smoothing;
        if (_filled < smoothing) _filled++;
        for (int c = 0; c < _classes; c++) SmoothedProbabilities[c] = _sum[c] / _filled;

        int leader = ArgMax(SmoothedProbabilities);
        if (leader == StableClass || SmoothedProbabilities[leader] < _threshold)
        {
            _candidate = -1;
            _candidateRuns = 0;
            return false;
        }
        if (leader == _candidate) _candidateRuns++;
        else
        {
            _candidate = leader;
            _candidateRuns = 1;
        }
        if (_candidateRuns < _hysteresis) return false;
        StableClass = leader;
        _candidate = -1;
        _candidateRuns = 0;
        return true;
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }

    public static void Softmax(ReadOnlySpan<float> logits, Span<float> destination)
    {
        float max = logits[ArgMax(logits)];
        float sum = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            destination[i] = MathF.Exp(logits[i] - max);
            sum += destination[i];
        }
        for (int i = 0; i < logits.Length; i++) destination[i] /= sum;
    }
}
