using EdgeAgent.Compression.Quantization;

namespace EdgeAgent.Compression.Deltas;

/// <summary>
/// How the tensors of one quantized trainable layer belong together: int8 weights with their float
/// scales (one per channel of <see cref="Axis"/>, or a single one), and optionally an int32 bias whose
/// scale is input scale × weight scale, as QDQ models and integer kernels expect. Averaging and
/// retraining happen on the real (dequantized) values; this says how to get there and back.
/// </summary>
public sealed record QuantizedLayer(string WeightValues, string WeightScale, int Axis, string? BiasValues = null, string? BiasScale = null)
{
    /// <summary>The layer's real weights (and bias) from its quantized tensors.</summary>
    public (float[] Weights, float[]? Bias) Dequantize(IReadOnlyDictionary<string, WeightTensor> tensors)
    {
        var w = Get(tensors, WeightValues, WeightElementType.Int8);
        var ws = Get(tensors, WeightScale, WeightElementType.Float32);
        var weights = ws.ElementCount == 1
            ? PerChannelQuantizer.Dequantize(w.AsInt8(), [ws.AsFloats()[0]], [w.ElementCount], 0)
            : PerChannelQuantizer.Dequantize(w.AsInt8(), ws.AsFloats(), w.Shape, Axis);
        float[]? bias = null;
        if (BiasValues is not null)
        {
            var b = Get(tensors, BiasValues, WeightElementType.Int32);
            var bs = Get(tensors, BiasScale ?? throw new InvalidOperationException($"layer '{WeightValues}': bias without a bias scale"), WeightElementType.Float32);
            bias = PerChannelQuantizer.DequantizeBias(b.AsInt32(), bs.AsFloats());
        }
        return (weights, bias);
    }

    /// <summary>
    /// Quantizes new real weights (and bias) into tensors laid out like those in <paramref name="template"/>:
    /// weights per channel symmetric, bias with scale = the layer's input scale (recovered from the
    /// template as bias scale ÷ weight scale) × the new weight scales.
    /// </summary>
    public IReadOnlyList<WeightTensor> Requantize(IReadOnlyDictionary<string, WeightTensor> template, ReadOnlySpan<float> weights, ReadOnlySpan<float> bias)
    {
        var w = Get(template, WeightValues, WeightElementType.Int8);
        var ws = Get(template, WeightScale, WeightElementType.Float32);
        if (weights.Length != w.ElementCount) throw new ArgumentException($"layer '{WeightValues}': {weights.Length} weights for a tensor of {w.ElementCount}");
        sbyte[] q;
        float[] scales;
        if (ws.ElementCount == 1) (q, scales) = PerTensor(weights);
        else (q, scales) = PerChannelQuantizer.QuantizeSymmetric(weights, w.Shape, Axis);
        var result = new List<WeightTensor>
        {
            WeightTensor.FromInt8(WeightValues, w.Shape, q),
            WeightTensor.FromFloats(WeightScale, ws.Shape, scales),
        };
        if (BiasValues is not null)
        {
            var b = Get(template, BiasValues, WeightElementType.Int32);
            var bs = Get(template, BiasScale!, WeightElementType.Float32);
            if (bias.Length != b.ElementCount) throw new ArgumentException($"layer '{WeightValues}': {bias.Length} bias values for a tensor of {b.ElementCount}");
            float inputScale = bs.AsFloats()[0] / ws.AsFloats()[0];
            var (bq, bscales) = PerChannelQuantizer.QuantizeBias(bias, inputScale, scales);
            result.Add(WeightTensor.FromInt32(BiasValues, b.Shape, bq));
            result.Add(WeightTensor.FromFloats(BiasScale!, bs.Shape, bs.ElementCount == 1 ? [bscales[0]] : bscales));
        }
        return result;
    }

    private static (sbyte[], float[]) PerTensor(ReadOnlySpan<float> weights)
    {
        float max = 0;
        foreach (var v in weights) max = MathF.Max(max, MathF.Abs(v));
        var p = AffineParameters.Symmetric(max);
        var q = new sbyte[weights.Length];
        for (int i = 0; i < q.Length; i++) q[i] = (sbyte)Math.Clamp(p.Quantize(weights[i], QuantizedType.Int8), -127, 127);
        return (q, [p.Scale]);
    }

    public IEnumerable<string> TensorNames()
    {
        yield return WeightValues;
        yield return WeightScale;
        if (BiasValues is not null) yield return BiasValues;
        if (BiasScale is not null) yield return BiasScale;
    }

    private static WeightTensor Get(IReadOnlyDictionary<string, WeightTensor> tensors, string name, WeightElementType type)
    {
        if (!tensors.TryGetValue(name, out var t)) throw new ArgumentException($"tensor '{name}' is missing");
        if (t.ElementType != type) throw new ArgumentException($"tensor '{name}' is {t.ElementType}, expected {type}");
        return t;
    }
}
