using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeAgent.Kernels;

/// <summary>NEON forms of <see cref="FloatMath"/>, operation for operation.</summary>
internal static class FloatMathNeon
{
    /// <summary>The x86 MAXPS/MINPS semantics as compare + select (FMAX would prefer +0 over -0 and differ).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Clamp(Vector128<float> v, Vector128<float> lo, Vector128<float> hi)
    {
        Vector128<float> t = AdvSimd.BitwiseSelect(AdvSimd.CompareGreaterThan(lo, v), lo, v);
        return AdvSimd.BitwiseSelect(AdvSimd.CompareLessThan(hi, t), hi, t);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Exp(Vector128<float> x)
    {
        Vector128<float> xc = Clamp(x, Vector128.Create(FloatMath.ExpMin), Vector128.Create(FloatMath.ExpMax));
        Vector128<float> n = AdvSimd.RoundToNearest(AdvSimd.Multiply(xc, Vector128.Create(FloatMath.Log2E)));
        Vector128<float> r = AdvSimd.FusedMultiplyAdd(xc, n, Vector128.Create(-FloatMath.Ln2Hi));
        r = AdvSimd.FusedMultiplyAdd(r, n, Vector128.Create(-FloatMath.Ln2Lo));
        Vector128<float> p = AdvSimd.FusedMultiplyAdd(Vector128.Create(FloatMath.C5), Vector128.Create(FloatMath.C6), r);
        p = AdvSimd.FusedMultiplyAdd(Vector128.Create(FloatMath.C4), p, r);
        p = AdvSimd.FusedMultiplyAdd(Vector128.Create(FloatMath.C3), p, r);
        p = AdvSimd.FusedMultiplyAdd(Vector128.Create(FloatMath.C2), p, r);
        p = AdvSimd.FusedMultiplyAdd(Vector128.Create(1f), p, r);
        p = AdvSimd.FusedMultiplyAdd(Vector128.Create(1f), p, r);
        Vector128<uint> bits = AdvSimd.ShiftLeftLogical(AdvSimd.Add(AdvSimd.ConvertToInt32RoundToZero(n), Vector128.Create(127)).AsUInt32(), 23);
        Vector128<float> y = AdvSimd.Multiply(p, bits.AsSingle());
        return AdvSimd.BitwiseClear(y, AdvSimd.CompareLessThan(x, Vector128.Create(FloatMath.ExpMin)));
    }

    /// <summary>Folds four vectors holding lanes 0..3, 4..7, 8..11, 12..15 in the canonical order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float FoldLanes(Vector128<float> q0, Vector128<float> q1, Vector128<float> q2, Vector128<float> q3)
    {
        Vector128<float> t4 = AdvSimd.Add(AdvSimd.Add(q0, q2), AdvSimd.Add(q1, q3));
        Vector64<float> t2 = AdvSimd.Add(t4.GetLower(), t4.GetUpper());
        return AdvSimd.Arm64.AddPairwiseScalar(t2).ToScalar();
    }
}
