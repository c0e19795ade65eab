using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary><see cref="Requantization"/>'s rule on 16 lanes of one ZMM, for the AVX-512 kernels that store one output vector at a time.</summary>
internal static unsafe class RequantizationAvx512
{
    /// <summary>
    /// 16 lanes already multiplied by their scales (<paramref name="scaled"/>): clamped to [<paramref name="lo"/>,
    /// <paramref name="hi"/>] (relative to the zero point, see <see cref="Requantization.Bounds"/>), rounded to nearest
    /// even, the zero point added, stored as 16 bytes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store16<T>(T* dst, Vector512<float> scaled, Vector512<float> lo, Vector512<float> hi, Vector512<int> zeroPoint) where T : unmanaged
    {
        Vector512<float> v = Avx512F.Min(Avx512F.Max(scaled, lo), hi);
        Vector512<int> q = Avx512F.Add(Avx512F.ConvertToVector512Int32(v), zeroPoint);
        // After the clamp every lane is within the output type's range, so keeping the low byte is exact.
        if (typeof(T) == typeof(byte)) Sse2.Store((byte*)dst, Avx512F.ConvertToVector128Byte(q));
        else Sse2.Store((sbyte*)dst, Avx512F.ConvertToVector128SByte(q));
    }
}
