namespace EdgeAgent.Runtime.Training;

/// <summary>
/// Softmax followed by cross-entropy, fused so the gradient is the stable softmax − one-hot.
/// Losses are means over the batch; gradients are written (or added, scaled) per logit.
/// </summary>
public static class SoftmaxCrossEntropy
{
    /// <summary>Numerically stable softmax of one row at temperature <paramref name="temperature"/>.</summary>
    public static void Softmax(ReadOnlySpan<float> logits, Span<float> probabilities, float temperature = 1f)
    {
        float max = float.NegativeInfinity;
        foreach (float z in logits) max = MathF.Max(max, z);
        float sum = 0;
        for (int i = 0; i < logits.Length; i++) { probabilities[i] = MathF.Exp((logits[i] - max) / temperature); sum += probabilities[i]; }
        float inv = 1f / sum;
        for (int i = 0; i < logits.Length; i++) probabilities[i] *= inv;
    }

    /// <summary>
    /// Mean cross-entropy of <paramref name="logits"/> [N, C] against class indices; adds
    /// weight·∂loss/∂logits to <paramref name="gradient"/> when given.
    /// </summary>
    public static float Loss(TrainingTensor logits, ReadOnlySpan<int> labels, TrainingTensor? gradient = null, float weight = 1f)
    {
        int n = logits.Batch, c = logits.SampleSize;
        if (labels.Length != n) throw new ArgumentException($"{labels.Length} labels for a batch of {n}");
        Span<float> p = c <= 1024 ? stackalloc float[c] : new float[c];
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            int y = labels[i];
            if ((uint)y >= (uint)c) throw new ArgumentOutOfRangeException(nameof(labels), $"label {y} of sample {i} is outside the {c} outputs");
            var z = logits.Sample(i);
            Softmax(z, p);
            total -= Math.Log(Math.Max(p[y], 1e-30f));
            if (gradient is null) continue;
            var g = gradient.Sample(i);
            float scale = weight / n;
            for (int j = 0; j < c; j++) g[j] += scale * (p[j] - (j == y ? 1f : 0f));
        }
        return (float)(total / n);
    }
}
