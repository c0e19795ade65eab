using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>AVX2/FMA forms of <see cref="FloatMath"/>, operation for operation.</summary>
internal static class FloatMathAvx2
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Clamp(Vector256<float> v, Vector256<float> lo, Vector256<float> hi) =>
        Avx.Min(hi, Avx.Max(lo, v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        Vector256<float> xc = Clamp(x, Vector256.Create(FloatMath.ExpMin), Vector256.Create(FloatMath.ExpMax));
        Vector256<float> n = Avx.RoundToNearestInteger(Avx.Multiply(xc, Vector256.Create(FloatMath.Log2E)));
        Vector256<float> r = Fma.MultiplyAdd(n, Vector256.Create(-FloatMath.Ln2Hi), xc);
        r = Fma.MultiplyAdd(n, Vector256.Create(-FloatMath.Ln2Lo), r);
        Vector256<float> p = Fma.MultiplyAdd(Vector256.Create(FloatMath.C6), r, Vector256.Create(FloatMath.C5));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(FloatMath.C4));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(FloatMath.C3));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(FloatMath.C2));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1f));
        p = Fma.MultiplyAdd(p, r, Vector256.Create(1f));
        Vector256<int> bits = Avx2.ShiftLeftLogical(Avx2.Add(Avx.ConvertToVector256Int32WithTruncation(n), Vector256.Create(127)), 23);
        Vector256<float> y = Avx.Multiply(p, bits.AsSingle());
        // x < ExpMin gives 0; NaN compares false and passes through.
        return Avx.AndNot(Avx.CompareLessThan(x, Vector256.Create(FloatMath.ExpMin)), y);
    }

    /// <summary>Folds lanes 0..7 (<paramref name="a"/>) and 8..15 (<paramref name="b"/>) in the canonical order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float FoldLanes(Vector256<float> a, Vector256<float> b)
    {
        Vector256<float> t8 = Avx.Add(a, b);
        Vector128<float> t4 = Sse.Add(t8.GetLower(), t8.GetUpper());
        Vector128<float> t2 = Sse.Add(t4, Sse.MoveHighToLow(t4, t4));
        return t2.ToScalar() + t2.GetElement(1);
    }
}
