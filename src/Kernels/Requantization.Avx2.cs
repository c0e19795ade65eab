using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// AVX2 form of <see cref="Requantization"/>: VCVTDQ2PS, VMULPS, VMAXPS/VMINPS, VCVTPS2DQ (round to nearest
/// even under the default MXCSR), VPADDD, then saturating packs that never saturate (values are already in range).
/// </summary>
internal static unsafe class RequantizationAvx2
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Requantize(Vector256<int> acc, Vector256<float> scale, Vector256<float> lo, Vector256<float> hi, Vector256<int> zp) =>
        RequantizeFloat(Avx.Multiply(Avx.ConvertToVector256Single(acc), scale), lo, hi, zp);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> RequantizeFloat(Vector256<float> v, Vector256<float> lo, Vector256<float> hi, Vector256<int> zp)
    {
        v = Avx.Min(Avx.Max(v, lo), hi);
        return Avx2.Add(Avx.ConvertToVector256Int32(v), zp);
    }

    /// <summary>Stores 16 requantized lanes (q0 = lanes 0..7, q1 = lanes 8..15) as u8 or s8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store16<T>(T* dst, Vector256<int> q0, Vector256<int> q1) where T : unmanaged
    {
        // VPACKSSDW packs within 128-bit lanes; VPERMQ puts the four quarters back in order.
        Vector256<short> s = Avx2.Permute4x64(Avx2.PackSignedSaturate(q0, q1).AsInt64(), 0b11_01_10_00).AsInt16();
        if (typeof(T) == typeof(byte))
            Sse2.Store((byte*)dst, Sse2.PackUnsignedSaturate(s.GetLower(), s.GetUpper()));
        else
            Sse2.Store((sbyte*)dst, Sse2.PackSignedSaturate(s.GetLower(), s.GetUpper()));
    }

    /// <summary>Stores 8 requantized lanes as u8 (<paramref name="signed"/> false) or s8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store8(byte* dst, Vector256<int> q, bool signed)
    {
        Vector128<short> s = Sse2.PackSignedSaturate(q.GetLower(), q.GetUpper());
        Vector128<byte> b = signed ? Sse2.PackSignedSaturate(s, s).AsByte() : Sse2.PackUnsignedSaturate(s, s);
        Sse2.StoreScalar((long*)dst, b.AsInt64());
    }

    /// <summary>Loads 16 u8 or s8 values widened to int16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> Load16Widen<T>(T* src) where T : unmanaged =>
        typeof(T) == typeof(byte)
            ? Avx2.ConvertToVector256Int16(Sse2.LoadVector128((byte*)src))
            : Avx2.ConvertToVector256Int16(Sse2.LoadVector128((sbyte*)src));

    /// <summary>Loads 8 u8 or s8 values widened to int32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Load8Widen<T>(T* src) where T : unmanaged =>
        typeof(T) == typeof(byte)
            ? Avx2.ConvertToVector256Int32((byte*)src)
            : Avx2.ConvertToVector256Int32((sbyte*)src);
}
