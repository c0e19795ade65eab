using System.Runtime.CompilerServices;

namespace EdgeAgent.Kernels;

/// <summary>
/// The requantization every int8 kernel of this family uses: <c>q = clamp(RNE((float)acc * scale) + zp)</c>,
/// computed as a float32 multiply (never fused with anything), a clamp in the float domain to
/// <c>[min - zp, max - zp]</c>, a round-to-nearest-even conversion and an integer add. Clamping before the
/// conversion gives the same result as clamping after it (the bounds are integers and rounding is monotonic)
/// and keeps every ISA away from its own out-of-range conversion behaviour, so all paths agree bit for bit.
/// The vector forms live beside each ISA's kernels and must perform these exact operations.
/// </summary>
internal static class Fp32Requantizer
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Requantize(int acc, float scale, float lo, float hi, int zeroPoint)
    {
        float v = (float)acc * scale;
        v = MathF.Min(MathF.Max(v, lo), hi);
        return (int)MathF.Round(v, MidpointRounding.ToEven) + zeroPoint;
    }

    /// <summary>Same as <see cref="Requantize(int,float,float,float,int)"/> for a value already in float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RequantizeFloat(float v, float lo, float hi, int zeroPoint)
    {
        v = MathF.Min(MathF.Max(v, lo), hi);
        return (int)MathF.Round(v, MidpointRounding.ToEven) + zeroPoint;
    }

    /// <summary>The float clamp bounds for <paramref name="output"/>, relative to its zero point.</summary>
    public static (float Lo, float Hi) Bounds(in QuantizedOutput output) =>
        ((float)(output.Min - output.ZeroPoint), (float)(output.Max - output.ZeroPoint));
}
