using System.Runtime.CompilerServices;

namespace EdgeAgent.Kernels;

/// <summary>
/// The one requantization rule every int8 kernel shares (QGEMM, convolution, depthwise, pooling, element-wise),
/// so every path produces the same bits: <c>out = clamp(RNE((float)acc * scale) + zeroPoint, min, max)</c>.
/// It is computed as int to float (round to nearest even), one IEEE multiply (never fused with anything), a clamp
/// in the float domain to <c>[min - zeroPoint, max - zeroPoint]</c>, a round-to-nearest-even conversion and an
/// integer add. Clamping before rounding gives the same integers as clamping after it (the bounds are integers,
/// exact in float, and rounding is monotonic) and keeps every ISA away from its own out-of-range conversion
/// behaviour. The vector forms (<see cref="RequantizationAvx2"/>, <see cref="RequantizationNeon"/>) perform
/// exactly these operations.
/// </summary>
public static class Requantization
{
    /// <summary>Requantizes one accumulator to [min, max]; the scalar definition every vector epilogue matches.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Requantize(int acc, float scale, int zeroPoint, int min, int max) =>
        Requantize(acc, scale, (float)(min - zeroPoint), (float)(max - zeroPoint), zeroPoint);

    /// <summary>Dequantizes one accumulator.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dequantize(int acc, float scale) => (float)acc * scale;

    /// <summary>Requantizes one accumulator with bounds already relative to the zero point (see <see cref="Bounds"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Requantize(int acc, float scale, float lo, float hi, int zeroPoint) =>
        RequantizeFloat((float)acc * scale, lo, hi, zeroPoint);

    /// <summary>The same rule for a value already scaled in float (element-wise kernels compute it their own way).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int RequantizeFloat(float v, float lo, float hi, int zeroPoint)
    {
        v = MathF.Min(MathF.Max(v, lo), hi);
        return (int)MathF.Round(v, MidpointRounding.ToEven) + zeroPoint;
    }

    /// <summary>The float clamp bounds for <paramref name="output"/>, relative to its zero point.</summary>
    internal static (float Lo, float Hi) Bounds(in QuantizedOutput output) =>
        ((float)(output.Min - output.ZeroPoint), (float)(output.Max - output.ZeroPoint));
}
