using EdgeAgent.Compression.Data;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Compression.Quantization;

/// <summary>
/// Empirical bias correction (Nagel et al. 2019, "Data-Free Quantization Through Weight Equalization and
/// Bias Correction", §4.2): quantization error is not zero-mean per output channel — rounding of
/// weights, clipping of activations and the errors arriving from earlier layers all shift each
/// channel's mean — and a ReLU turns such a shift into a real change of which units fire. For each
/// quantized layer in graph order, the mean of every output channel (before the activation) is measured
/// on the calibration samples in the float model and in the QDQ model with all earlier corrections in
/// place, and the difference is subtracted from the int32 bias, in its own units (input scale × weight
/// scale). The QDQ form and every scale stay as they are: only bias integers change.
/// </summary>
internal static class BiasCorrection
{
    /// <summary>One layer to correct: its node output (before any activation) and its int32 bias initializer.</summary>
    public sealed record Layer(string Node, string FloatOutput, string QuantizedOutput, string Bias, float[] BiasScales, int ChannelAxis);

    /// <summary>
    /// Corrects <paramref name="layers"/> (in graph order) of <paramref name="quantized"/> in place against
    /// <paramref name="reference"/> (the float model the QDQ model was made from, same tensor names for the
    /// layer outputs). Returns the largest correction applied, in bias steps.
    /// </summary>
    public static long Apply(OnnxModel reference, OnnxModel quantized, IReadOnlyList<Layer> layers, SampleSet samples,
                             Action<int, int>? progress)
    {
        if (layers.Count == 0) return 0;
        var floatMeans = ChannelMeans(reference, layers.Select(l => (l.FloatOutput, l.ChannelAxis)).ToList(), samples);
        long largest = 0;
        for (int k = 0; k < layers.Count; k++)
        {
            var layer = layers[k];
            // Earlier layers are corrected already, so this layer sees the inputs it will see on the device.
            var quantizedMean = ChannelMeans(quantized, [(layer.QuantizedOutput, layer.ChannelAxis)], samples)[layer.QuantizedOutput];
            var expected = floatMeans[layer.FloatOutput];
            var bias = quantized.Graph.Initializers[layer.Bias];
            var values = bias.ToArray<int>();
            if (values.Length != expected.Length || layer.BiasScales.Length != values.Length)
                throw new InvalidOperationException($"bias correction: node '{layer.Node}' has {expected.Length} output channels but its bias '{layer.Bias}' has {values.Length} values");
            for (int c = 0; c < values.Length; c++)
            {
                double steps = Math.Round((quantizedMean[c] - expected[c]) / layer.BiasScales[c], MidpointRounding.ToEven);
                if (!double.IsFinite(steps)) continue;
                long corrected = Math.Clamp(values[c] - (long)steps, int.MinValue + 1L, int.MaxValue);
                largest = Math.Max(largest, Math.Abs(corrected - values[c]));
                values[c] = (int)corrected;
            }
            quantized.Graph.Initializers[layer.Bias] = Tensor.FromArray<int>(values, values.Length);
            progress?.Invoke(k + 1, layers.Count);
        }
        return largest;
    }

    /// <summary>Per-channel means of the named tensors over all samples (every position of every sample counts once).</summary>
    private static Dictionary<string, double[]> ChannelMeans(OnnxModel model, IReadOnlyList<(string Name, int Axis)> tensors, SampleSet samples)
    {
        var collector = new ActivationCollector(model, tensors.Select(t => t.Name).ToList());
        var sums = new Dictionary<string, double[]>(StringComparer.Ordinal);
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        collector.Run(samples, (_, values) =>
        {
            foreach (var (name, axis) in tensors)
            {
                if (!values.TryGetValue(name, out var t)) throw new InvalidOperationException($"bias correction: tensor '{name}' was not produced");
                if (t.DataType != DataType.Float) throw new InvalidOperationException($"bias correction: tensor '{name}' is {t.DataType.ToName()}, expected float32");
                int a = axis < 0 ? axis + t.Rank : axis;
                if (a < 0 || a >= t.Rank) throw new InvalidOperationException($"bias correction: tensor '{name}' of shape {Tensor.FormatShape(t.Shape)} has no channel axis {axis}");
                var (outer, channels, inner) = PerChannelQuantizer.Split(t.ElementCount, t.Shape, a);
                if (!sums.TryGetValue(name, out var sum)) sums[name] = sum = new double[channels];
                if (sum.Length != channels) throw new InvalidOperationException($"bias correction: tensor '{name}' changed from {sum.Length} to {channels} channels between samples");
                var span = t.Span<float>();
                for (int o = 0; o < outer; o++)
                    for (int c = 0; c < channels; c++)
                    {
                        double s = 0;
                        foreach (float v in span.Slice((o * channels + c) * inner, inner)) s += v;
                        sum[c] += s;
                    }
                counts[name] = counts.GetValueOrDefault(name) + (long)outer * inner;
            }
        });
        return sums.ToDictionary(p => p.Key, p => p.Value.Select(s => s / counts[p.Key]).ToArray(), StringComparer.Ordinal);
    }
}
