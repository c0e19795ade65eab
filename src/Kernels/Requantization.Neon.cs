using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeAgent.Kernels;

/// <summary>
/// NEON form of <see cref="Requantization"/>: SCVTF, FMUL (never FMLA), FMAX/FMIN, FCVTNS (round to nearest
/// even), ADD, then SQXTN/SQXTUN narrows that never saturate (values are already in range).
/// </summary>
internal static unsafe class RequantizationNeon
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> Requantize(Vector128<int> acc, Vector128<float> scale, Vector128<float> lo, Vector128<float> hi, Vector128<int> zp) =>
        RequantizeFloat(AdvSimd.Multiply(AdvSimd.ConvertToSingle(acc), scale), lo, hi, zp);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<int> RequantizeFloat(Vector128<float> v, Vector128<float> lo, Vector128<float> hi, Vector128<int> zp)
    {
        v = AdvSimd.Min(AdvSimd.Max(v, lo), hi);
        return AdvSimd.Add(AdvSimd.ConvertToInt32RoundToEven(v), zp);
    }

    /// <summary>Stores 16 requantized lanes (four vectors of four) as u8 or s8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store16<T>(T* dst, Vector128<int> q0, Vector128<int> q1, Vector128<int> q2, Vector128<int> q3) where T : unmanaged
    {
        Vector128<short> s01 = AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(q0), q1);
        Vector128<short> s23 = AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(q2), q3);
        if (typeof(T) == typeof(byte))
            AdvSimd.Store((byte*)dst, AdvSimd.ExtractNarrowingSaturateUnsignedUpper(AdvSimd.ExtractNarrowingSaturateUnsignedLower(s01), s23));
        else
            AdvSimd.Store((sbyte*)dst, AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(s01), s23));
    }

    /// <summary>Stores 8 requantized lanes (two vectors of four) as u8 or s8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store8<T>(T* dst, Vector128<int> q0, Vector128<int> q1) where T : unmanaged
    {
        Vector128<short> s = AdvSimd.ExtractNarrowingSaturateUpper(AdvSimd.ExtractNarrowingSaturateLower(q0), q1);
        if (typeof(T) == typeof(byte))
            AdvSimd.Store((byte*)dst, AdvSimd.ExtractNarrowingSaturateUnsignedLower(s));
        else
            AdvSimd.Store((sbyte*)dst, AdvSimd.ExtractNarrowingSaturateLower(s));
    }

    /// <summary>x - zp for 16 u8 or s8 values, as two int16x8 halves (exact: |x - zp| is at most 255).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Load16MinusZeroPoint<T>(T* src, Vector128<byte> zp, out Vector128<short> low, out Vector128<short> high) where T : unmanaged
    {
        if (typeof(T) == typeof(byte))
        {
            Vector128<byte> x = AdvSimd.LoadVector128((byte*)src);
            low = AdvSimd.SubtractWideningLower(x.GetLower(), zp.GetLower()).AsInt16();
            high = AdvSimd.SubtractWideningUpper(x, zp).AsInt16();
        }
        else
        {
            Vector128<sbyte> x = AdvSimd.LoadVector128((sbyte*)src);
            low = AdvSimd.SubtractWideningLower(x.GetLower(), zp.AsSByte().GetLower());
            high = AdvSimd.SubtractWideningUpper(x, zp.AsSByte());
        }
    }

    /// <summary>x - zp for 8 u8 or s8 values as int16x8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<short> Load8MinusZeroPoint<T>(T* src, Vector128<byte> zp) where T : unmanaged =>
        typeof(T) == typeof(byte)
            ? AdvSimd.SubtractWideningLower(AdvSimd.LoadVector64((byte*)src), zp.GetLower()).AsInt16()
            : AdvSimd.SubtractWideningLower(AdvSimd.LoadVector64((sbyte*)src), zp.AsSByte().GetLower());

    /// <summary>The zero point as a byte vector whatever the signedness (the bit pattern is what SUBL needs).</summary>
    public static Vector128<byte> ZeroPointBytes(int zeroPoint) => Vector128.Create((byte)zeroPoint);
}
