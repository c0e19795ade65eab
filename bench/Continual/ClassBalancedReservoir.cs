using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Bench.Continual;

/// <summary>
/// The bench's stand-in for the daemon's reservoir: a fixed capacity split evenly across the classes
/// seen, each class keeping a uniform random sample of its stream (reservoir sampling per class).
/// </summary>
internal sealed class ClassBalancedReservoir(int capacity, int seed)
{
    private readonly Random _random = new(seed);
    private readonly Dictionary<int, List<LabeledEmbedding>> _byClass = [];
    private readonly Dictionary<int, long> _seen = [];

    public IReadOnlyList<LabeledEmbedding> Samples => _byClass.OrderBy(kv => kv.Key).SelectMany(kv => kv.Value).ToList();

    public void Offer(LabeledEmbedding sample)
    {
        if (!_byClass.TryGetValue(sample.Label, out var list))
        {
            _byClass[sample.Label] = list = [];
            _seen[sample.Label] = 0;
        }
        int quota = capacity / _byClass.Count;
        foreach (var other in _byClass.Values)
            while (other.Count > quota) other.RemoveAt(_random.Next(other.Count));
        long n = ++_seen[sample.Label];
        if (list.Count < quota) list.Add(sample);
        else
        {
            long slot = _random.NextInt64(n);
            if (slot < quota) list[(int)slot] = sample;
        }
    }
}
