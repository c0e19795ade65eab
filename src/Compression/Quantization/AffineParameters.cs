namespace EdgeAgent.Compression.Quantization;

/// <summary>One scale and zero point: real = scale × (q − zeroPoint).</summary>
public readonly record struct AffineParameters(float Scale, int ZeroPoint)
{
    /// <summary>
    /// Asymmetric parameters covering [min, max] (widened to include 0 so that zero padding and ReLU
    /// outputs are exact) for the given 8-bit type.
    /// </summary>
    public static AffineParameters FromRange(float min, float max, QuantizedType type)
    {
        if (float.IsNaN(min) || float.IsNaN(max) || float.IsInfinity(min) || float.IsInfinity(max))
            throw new ArgumentException($"range [{min}, {max}] is not finite");
        if (min > max) throw new ArgumentException($"range [{min}, {max}] is empty");
        min = MathF.Min(min, 0f);
        max = MathF.Max(max, 0f);
        (int qmin, int qmax) = type == QuantizedType.UInt8 ? (0, 255) : (-128, 127);
        float scale = (max - min) / (qmax - qmin);
        if (scale == 0f || !float.IsNormal(scale)) return new AffineParameters(1f, type == QuantizedType.UInt8 ? 0 : 0);
        int zero = (int)MathF.Round(qmin - min / scale, MidpointRounding.ToEven);
        zero = Math.Clamp(zero, qmin, qmax);
        return new AffineParameters(scale, zero);
    }

    /// <summary>Symmetric parameters (zero point 0) for values in [-absMax, absMax], mapped to [-127, 127].</summary>
    public static AffineParameters Symmetric(float absMax)
    {
        if (!float.IsFinite(absMax) || absMax < 0) throw new ArgumentException($"absolute maximum {absMax} is not a finite non-negative number");
        float scale = absMax / 127f;
        return new AffineParameters(float.IsNormal(scale) ? scale : 1f, 0);
    }

    public int Quantize(float value, QuantizedType type)
    {
        (int qmin, int qmax) = type == QuantizedType.UInt8 ? (0, 255) : (-128, 127);
        float q = MathF.Round(value / Scale, MidpointRounding.ToEven) + ZeroPoint;
        return (int)Math.Clamp(q, qmin, qmax);
    }

    public float Dequantize(int q) => Scale * (q - ZeroPoint);
}
