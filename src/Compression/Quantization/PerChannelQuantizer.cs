using System.Runtime.InteropServices;

namespace EdgeAgent.Compression.Quantization;

/// <summary>
/// Requantization helpers shared by the exporter and the device: float weights to int8 symmetric per
/// output channel (with one scale per channel), int8 back to float, and int32 biases whose scale is
/// input scale × weight scale (what integer kernels accumulate in).
/// </summary>
public static class PerChannelQuantizer
{
    /// <summary>
    /// Quantizes <paramref name="weights"/> (row-major, <paramref name="shape"/>) symmetrically to
    /// [-127, 127], one scale per index of dimension <paramref name="axis"/>.
    /// </summary>
    public static (sbyte[] Values, float[] Scales) QuantizeSymmetric(ReadOnlySpan<float> weights, ReadOnlySpan<int> shape, int axis)
    {
        var (outer, channels, inner) = Split(weights.Length, shape, axis);
        var absMax = new float[channels];
        for (int o = 0; o < outer; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                var block = weights.Slice((o * channels + c) * inner, inner);
                float m = absMax[c];
                foreach (var w in block)
                {
                    if (!float.IsFinite(w)) throw new ArgumentException($"weight {w} in channel {c} is not finite");
                    m = MathF.Max(m, MathF.Abs(w));
                }
                absMax[c] = m;
            }
        }
        var scales = new float[channels];
        for (int c = 0; c < channels; c++) scales[c] = AffineParameters.Symmetric(absMax[c]).Scale;

        var values = new sbyte[weights.Length];
        for (int o = 0; o < outer; o++)
        {
            for (int c = 0; c < channels; c++)
            {
                int start = (o * channels + c) * inner;
                float inv = 1f / scales[c];
                for (int i = start; i < start + inner; i++)
                    values[i] = (sbyte)Math.Clamp(MathF.Round(weights[i] * inv, MidpointRounding.ToEven), -127f, 127f);
            }
        }
        return (values, scales);
    }

    /// <summary>real = scale[c] × q (zero point 0).</summary>
    public static float[] Dequantize(ReadOnlySpan<sbyte> values, ReadOnlySpan<float> scales, ReadOnlySpan<int> shape, int axis)
    {
        var (outer, channels, inner) = Split(values.Length, shape, axis);
        if (scales.Length != channels) throw new ArgumentException($"{scales.Length} scales for {channels} channels on axis {axis}");
        var result = new float[values.Length];
        for (int o = 0; o < outer; o++)
            for (int c = 0; c < channels; c++)
            {
                int start = (o * channels + c) * inner;
                for (int i = start; i < start + inner; i++) result[i] = values[i] * scales[c];
            }
        return result;
    }

    /// <summary>Bias to int32 with per-channel scale inputScale × weightScales[c]; returns the values and those scales.</summary>
    public static (int[] Values, float[] Scales) QuantizeBias(ReadOnlySpan<float> bias, float inputScale, ReadOnlySpan<float> weightScales)
    {
        if (weightScales.Length != bias.Length && weightScales.Length != 1)
            throw new ArgumentException($"{weightScales.Length} weight scales for a bias of {bias.Length}");
        var values = new int[bias.Length];
        var scales = new float[bias.Length];
        for (int c = 0; c < bias.Length; c++)
        {
            float s = inputScale * weightScales[weightScales.Length == 1 ? 0 : c];
            scales[c] = s;
            double q = Math.Round(bias[c] / (double)s, MidpointRounding.ToEven);
            values[c] = (int)Math.Clamp(q, int.MinValue + 1, int.MaxValue);
        }
        return (values, scales);
    }

    public static float[] DequantizeBias(ReadOnlySpan<int> values, ReadOnlySpan<float> scales)
    {
        if (scales.Length != values.Length && scales.Length != 1)
            throw new ArgumentException($"{scales.Length} scales for a bias of {values.Length}");
        var result = new float[values.Length];
        for (int c = 0; c < values.Length; c++) result[c] = values[c] * scales[scales.Length == 1 ? 0 : c];
        return result;
    }

    /// <summary>Affine 8-bit quantization of a whole tensor with one scale and zero point.</summary>
    public static byte[] QuantizePerTensor(ReadOnlySpan<float> values, AffineParameters p, QuantizedType type)
    {
        var result = new byte[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            int q = p.Quantize(values[i], type);
            result[i] = type == QuantizedType.UInt8 ? (byte)q : unchecked((byte)(sbyte)q);
        }
        return result;
    }

    public static float[] DequantizePerTensor(ReadOnlySpan<byte> values, AffineParameters p, QuantizedType type)
    {
        var result = new float[values.Length];
        if (type == QuantizedType.UInt8)
            for (int i = 0; i < values.Length; i++) result[i] = p.Dequantize(values[i]);
        else
        {
            var signed = MemoryMarshal.Cast<byte, sbyte>(values);
            for (int i = 0; i < values.Length; i++) result[i] = p.Dequantize(signed[i]);
        }
        return result;
    }

    internal static (int Outer, int Channels, int Inner) Split(int length, ReadOnlySpan<int> shape, int axis)
    {
        if (shape.Length == 0) throw new ArgumentException("per-channel quantization needs a tensor of rank ≥ 1");
        if (axis < 0 || axis >= shape.Length) throw new ArgumentException($"axis {axis} is outside a rank-{shape.Length} shape");
        long outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        long total = outer * shape[axis] * inner;
        if (total != length) throw new ArgumentException($"shape [{string.Join(',', shape.ToArray())}] holds {total} values, the data has {length}");
        return ((int)outer, shape[axis], (int)inner);
    }
}
