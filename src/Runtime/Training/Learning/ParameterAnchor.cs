namespace EdgeAgent.Runtime.Training;

/// <summary>
/// Pulls a candidate head towards the weights it started from: λ/2·Σ w_i·(θ_i − θ_old,i)², with
/// w = 1 (L2-SP) or the diagonal Fisher (EWC). Weights a grown head added have no previous value and
/// are free: since Dense rows are outputs, the old values are a prefix of the new tensor.
/// </summary>
public sealed class ParameterAnchor
{
    private readonly (Parameter Current, float[] Old, float[]? Importance)[] _terms;
    private readonly float _weight;

    private ParameterAnchor((Parameter, float[], float[]?)[] terms, float weight)
    {
        _terms = terms;
        _weight = weight;
    }

    /// <summary>An anchor of <paramref name="candidate"/> to <paramref name="previous"/> (same layers, candidate may have grown).</summary>
    public static ParameterAnchor Create(Network candidate, Network previous, AnchorKind kind, float weight,
        IReadOnlyDictionary<string, float[]>? fisher = null)
    {
        if (kind == AnchorKind.Ewc && fisher is null) throw new ArgumentException("EWC needs a Fisher estimate");
        var old = previous.NamedParameters.ToDictionary(p => p.Name, p => p.Parameter);
        var terms = new List<(Parameter, float[], float[]?)>();
        foreach (var (name, p) in candidate.NamedParameters)
        {
            if (!old.TryGetValue(name, out var o)) throw new ArgumentException($"anchor: the previous head has no parameter '{name}'");
            if (o.Length > p.Length) throw new ArgumentException($"anchor: '{name}' shrank from {o.Length} to {p.Length} values");
            terms.Add((p, (float[])o.Value.Clone(), kind == AnchorKind.Ewc ? fisher![name] : null));
        }
        return new ParameterAnchor(terms.ToArray(), weight);
    }

    /// <summary>Adds the anchor's gradient to the parameters' gradients; returns its value.</summary>
    public float AddGradient()
    {
        double total = 0;
        foreach (var (p, old, importance) in _terms)
        {
            var v = p.Value;
            var g = p.Grad;
            for (int i = 0; i < old.Length; i++)
            {
                float d = v[i] - old[i], w = importance is null ? 1f : importance[i];
                g[i] += _weight * w * d;
                total += w * d * d;
            }
        }
        return (float)(0.5 * _weight * total);
    }

    /// <summary>
    /// Diagonal empirical Fisher of <paramref name="head"/>: the mean over samples of the squared
    /// per-sample gradient of −log p(y|x), scaled so its mean over all parameters is 1 (λ then means
    /// the same for EWC as for L2-SP).
    /// </summary>
    public static Dictionary<string, float[]> EstimateFisher(Network head, IReadOnlyList<LabeledEmbedding> samples, int maxSamples, int seed)
    {
        if (samples.Count == 0) throw new ArgumentException("the Fisher estimate needs samples (the replay set is empty)");
        var work = head.Clone();
        var named = work.NamedParameters.ToArray();
        var sums = named.ToDictionary(p => p.Name, p => new double[p.Parameter.Length]);
        var picks = Enumerable.Range(0, samples.Count).ToArray();
        new Random(seed).Shuffle(picks);
        int count = Math.Min(maxSamples, samples.Count);
        var input = new TrainingTensor([1, .. work.InputShape]);
        var gradient = new TrainingTensor([1, .. work.OutputShape]);
        work.Training = true;
        foreach (var (_, p) in named) p.ZeroGrad();
        int outputs = work.OutputSize;
        for (int s = 0; s < count; s++)
        {
            var sample = samples[picks[s]];
            sample.Embedding.AsSpan().CopyTo(input.Span);
            var logits = work.Forward(input);
            gradient.Span.Clear();
            if (sample.Label >= outputs) continue;
            SoftmaxCrossEntropy.Loss(logits, [sample.Label], gradient);
            work.Backward(gradient);
            foreach (var (name, p) in named)
            {
                var sum = sums[name];
                for (int i = 0; i < p.Length; i++) { sum[i] += (double)p.Grad[i] * p.Grad[i]; p.Grad[i] = 0; }
            }
        }
        double mean = sums.Values.Sum(a => a.Sum()) / Math.Max(1, sums.Values.Sum(a => a.Length));
        double scale = mean > 0 ? 1.0 / mean : 1.0;
        return sums.ToDictionary(kv => kv.Key, kv => kv.Value.Select(v => (float)(v * scale)).ToArray());
    }
}
