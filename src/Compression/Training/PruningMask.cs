using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Compression.Training;

/// <summary>
/// The zeros unstructured pruning left in a network's weights. Re-applied after every optimizer step
/// so finetuning recovers accuracy without growing the pruned weights back (the file stays as
/// compressible as it was). Structured pruning removed its channels outright: nothing to mask there.
/// </summary>
public sealed class PruningMask
{
    private readonly List<(Parameter Weight, int[] Zeros)> _masks = [];

    /// <summary>
    /// Records the exact zeros of every weight (not bias or normalisation) parameter holding at
    /// least <paramref name="minimumFraction"/> zeros; the threshold keeps a weight that happens to
    /// contain a stray zero from being treated as pruned.
    /// </summary>
    public static PruningMask Capture(Network network, double minimumFraction = 0.05)
    {
        var mask = new PruningMask();
        foreach (var layer in network.Layers)
        {
            if (layer.Parameters.Count == 0 || layer.Parameters[0].Name != "weight") continue;
            var w = layer.Parameters[0];
            var zeros = new List<int>();
            for (int i = 0; i < w.Value.Length; i++) if (w.Value[i] == 0f) zeros.Add(i);
            if (zeros.Count > 0 && zeros.Count >= minimumFraction * w.Length) mask._masks.Add((w, zeros.ToArray()));
        }
        return mask;
    }

    /// <summary>Weights held at zero.</summary>
    public long MaskedCount => _masks.Sum(m => (long)m.Zeros.Length);

    public int MaskedTensors => _masks.Count;

    public void Apply()
    {
        foreach (var (w, zeros) in _masks)
        {
            var v = w.Value;
            foreach (int i in zeros) v[i] = 0f;
        }
    }
}
