using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>
/// Reads the scales and zero points of a quantized node when they are constants (initializers), which is
/// what lets the node run on the int8 kernels with everything precomputed at load.
/// </summary>
internal static class QuantizationConstants
{
    /// <summary>Float values of constant input <paramref name="i"/> if it has 1 or <paramref name="count"/> elements.</summary>
    public static float[]? Scales(CompileContext c, int i, int count)
    {
        if (c.Constant(i) is not { } t || t.ElementCount is var n && n != 1 && n != count) return null;
        var values = new float[t.ElementCount];
        for (int e = 0; e < values.Length; e++)
        {
            values[e] = (float)CastOps.GetDouble(t, e);
            if (!float.IsFinite(values[e]) || values[e] <= 0) return null;
        }
        return values;
    }

    /// <summary>Integer values of constant input <paramref name="i"/> (absent: one zero), if 1 or <paramref name="count"/> elements.</summary>
    public static int[]? ZeroPoints(CompileContext c, int i, int count)
    {
        if (!c.HasInput(i)) return [0];
        if (c.Constant(i) is not { } t || t.ElementCount is var n && n != 1 && n != count) return null;
        var values = new int[t.ElementCount];
        for (int e = 0; e < values.Length; e++) values[e] = (int)t.GetInt64(e);
        return values;
    }

    /// <summary>
    /// The int32 bias of constant input <paramref name="i"/> with exactly <paramref name="count"/> elements; absent:
    /// empty (no bias); present but not a constant of that length: null.
    /// </summary>
    public static int[]? Int32Bias(CompileContext c, int i, int count)
    {
        if (!c.HasInput(i)) return [];
        if (c.Constant(i) is not { } t || t.ElementCount != count) return null;
        var bias = new int[count];
        for (int j = 0; j < count; j++) bias[j] = (int)t.GetInt64(j);
        return bias;
    }

    /// <summary>Signed 8-bit copy of constant weights: u8 weights and their zero points move down by 128 (same differences).</summary>
    public static sbyte[] SignedWeights(Tensor w, int[] zeroPoints)
    {
        var values = new sbyte[w.ElementCount];
        if (w.DataType == DataType.Int8) w.Span<sbyte>().CopyTo(values);
        else
        {
            var u = w.Span<byte>();
            for (int e = 0; e < values.Length; e++) values[e] = (sbyte)(u[e] - 128);
            for (int e = 0; e < zeroPoints.Length; e++) zeroPoints[e] -= 128;
        }
        return values;
    }

    /// <summary>Expands one value to <paramref name="count"/> (per-tensor parameters applied per channel).</summary>
    public static T[] PerChannel<T>(T[] values, int count) => values.Length == count ? values : Enumerable.Repeat(values[0], count).ToArray();

    /// <summary>Requantization scales sx·sw[n]/sy, in float as ONNX's reference computes them.</summary>
    public static float[] RequantScales(float inputScale, float[] weightScales, float outputScale)
    {
        var s = new float[weightScales.Length];
        for (int n = 0; n < s.Length; n++) s[n] = inputScale * weightScales[n] / outputScale;
        return s;
    }

    /// <summary>The quantized clamp [min, max] for an output type, zero point and fused real-valued activation bounds.</summary>
    public static EdgeAgent.Kernels.QuantizedOutput Clamp(DataType type, int zeroPoint, float scale, float activationMin, float activationMax)
    {
        var q = type == DataType.Int8 ? EdgeAgent.Kernels.QuantizedOutput.S8(zeroPoint) : EdgeAgent.Kernels.QuantizedOutput.U8(zeroPoint);
        if (float.IsNegativeInfinity(activationMin) && float.IsPositiveInfinity(activationMax)) return q;
        return q.MinMax(activationMin, activationMax, scale);
    }
}
