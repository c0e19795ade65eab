namespace EdgeAgent.Runtime.Training;

/// <summary>One weight tensor quantized s8 symmetric per output channel (its leading dimension).</summary>
public sealed record QuantizedWeight(string Name, int[] Shape, sbyte[] Values, float[] Scales)
{
    public int Channels => Shape[0];
    public int PerChannel => Values.Length / Shape[0];

    public float Dequantize(int index) => Values[index] * Scales[index / PerChannel];
}

/// <summary>
/// A head ready to serve in int8: every weight tensor per-channel s8; biases and normalisation
/// parameters stay float (the runtime folds them into int32 biases with the activation scales).
/// </summary>
public sealed record QuantizedHead(IReadOnlyList<QuantizedWeight> Weights)
{
    public long WeightBytes => Weights.Sum(w => (long)w.Values.Length + 4L * w.Scales.Length);
}

/// <summary>
/// Requantizes a trained float head: scale_c = max|w_c| / 127, q = round(w / scale_c) in [−127, 127],
/// the range the int8 kernels expect (−128 is never used, so negation is safe).
/// </summary>
public static class HeadQuantizer
{
    public static QuantizedHead Quantize(Network head)
    {
        var weights = new List<QuantizedWeight>();
        foreach (var layer in head.Layers)
        {
            var w = layer switch { Dense d => d.Weight, Conv2d c => c.Weight, Conv1d c => c.Weight, _ => null };
            if (w is null) continue;
            int channels = w.Shape[0], per = w.Length / channels;
            var q = new sbyte[w.Length];
            var scales = new float[channels];
            for (int c = 0; c < channels; c++)
            {
                var row = w.Value.AsSpan(c * per, per);
                float max = 0;
                foreach (float v in row) max = MathF.Max(max, MathF.Abs(v));
                float scale = max > 0 ? max / 127f : 1f;
                scales[c] = scale;
                for (int i = 0; i < per; i++) q[c * per + i] = (sbyte)Math.Clamp((int)MathF.Round(row[i] / scale, MidpointRounding.ToEven), -127, 127);
            }
            weights.Add(new QuantizedWeight(layer.Name + ".weight", (int[])w.Shape.Clone(), q, scales));
        }
        if (weights.Count == 0) throw new InvalidOperationException("the head has no Dense or Conv weights to quantize");
        return new QuantizedHead(weights);
    }

    /// <summary>
    /// A copy of <paramref name="head"/> whose weights are exactly the int8 values times their scales:
    /// what the served int8 head computes (up to activation rounding), so the gate judges that.
    /// </summary>
    public static Network ApplyTo(Network head, QuantizedHead quantized)
    {
        var copy = head.Clone();
        var byName = quantized.Weights.ToDictionary(w => w.Name);
        foreach (var (name, p) in copy.NamedParameters)
        {
            if (!byName.TryGetValue(name, out var q)) continue;
            if (q.Values.Length != p.Length) throw new ArgumentException($"quantized '{name}' has {q.Values.Length} values, the head {p.Length}");
            for (int i = 0; i < p.Length; i++) p.Value[i] = q.Dequantize(i);
        }
        return copy;
    }
}
