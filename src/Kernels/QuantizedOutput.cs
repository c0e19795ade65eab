namespace EdgeAgent.Kernels;

/// <summary>
/// Where an int8 kernel's requantized result lands: the output zero point and the clamp range in the
/// quantized domain, with any fused activation (ReLU, ReLU6, min/max) already folded into the range.
/// Build it with <see cref="U8"/> or <see cref="S8"/>, then narrow it with <see cref="Relu"/>,
/// <see cref="Relu6"/> or <see cref="MinMax"/>.
/// </summary>
public readonly record struct QuantizedOutput
{
    /// <summary>Output zero point.</summary>
    public int ZeroPoint { get; }

    /// <summary>Smallest quantized value written (inclusive).</summary>
    public int Min { get; }

    /// <summary>Largest quantized value written (inclusive).</summary>
    public int Max { get; }

    private QuantizedOutput(int zeroPoint, int min, int max)
    {
        if (min > max)
            throw new ArgumentException($"quantized clamp range is empty: min {min} > max {max} (zero point {zeroPoint})");
        ZeroPoint = zeroPoint;
        Min = min;
        Max = max;
    }

    /// <summary>An unsigned 8-bit output with zero point <paramref name="zeroPoint"/> and the full range 0..255.</summary>
    public static QuantizedOutput U8(int zeroPoint)
    {
        if ((uint)zeroPoint > 255) throw new ArgumentOutOfRangeException(nameof(zeroPoint), zeroPoint, "a u8 zero point must be in 0..255");
        return new(zeroPoint, 0, 255);
    }

    /// <summary>A signed 8-bit output with zero point <paramref name="zeroPoint"/> and the full range -128..127.</summary>
    public static QuantizedOutput S8(int zeroPoint)
    {
        if (zeroPoint < -128 || zeroPoint > 127) throw new ArgumentOutOfRangeException(nameof(zeroPoint), zeroPoint, "an s8 zero point must be in -128..127");
        return new(zeroPoint, -128, 127);
    }

    /// <summary>Fused ReLU: nothing below the zero point (real 0).</summary>
    public QuantizedOutput Relu() => new(ZeroPoint, Math.Max(Min, Math.Min(ZeroPoint, Max)), Max);

    /// <summary>Fused ReLU6: real values clamped to [0, 6] with output scale <paramref name="scale"/>.</summary>
    public QuantizedOutput Relu6(float scale) => MinMax(0f, 6f, scale);

    /// <summary>Fused clamp of the real output to [<paramref name="min"/>, <paramref name="max"/>] (output scale <paramref name="scale"/>).</summary>
    public QuantizedOutput MinMax(float min, float max, float scale)
    {
        if (!(scale > 0) || !float.IsFinite(scale)) throw new ArgumentOutOfRangeException(nameof(scale), scale, "output scale must be positive and finite");
        if (min > max) throw new ArgumentException($"fused clamp min {min} > max {max}");
        int lo = Quantize(min, scale), hi = Quantize(max, scale);
        return new(ZeroPoint, Math.Clamp(lo, Min, Max), Math.Clamp(hi, Min, Max));
    }

    // Rounds in double and saturates so +-infinity and huge bounds behave as "no bound".
    private int Quantize(float real, float scale)
    {
        double q = Math.Round((double)real / scale, MidpointRounding.ToEven) + ZeroPoint;
        return (int)Math.Clamp(q, int.MinValue / 2, int.MaxValue / 2);
    }
}
