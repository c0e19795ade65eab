using System.Runtime.CompilerServices;

namespace EdgeAgent.Kernels;

/// <summary>
/// The float building blocks that the vector kernels reproduce exactly, written once for the scalar path:
/// the clamp with x86 MAXPS/MINPS operand semantics, the exponential (range reduction plus a degree-6
/// polynomial, all FMA), and the canonical 16-lane summation order.
/// </summary>
internal static class FloatMath
{
    // exp(x) = 2^n * e^r, n = RNE(x * log2(e)), r = x - n*ln2 in two FMA steps (Cody-Waite split of ln 2).
    internal const float Log2E = 1.44269504088896341f;
    internal const float Ln2Hi = 0.693359375f;
    internal const float Ln2Lo = -2.12194440e-4f;
    // Below this exp underflows float's normal range: the result is 0. Above the upper bound 2^n would overflow.
    internal const float ExpMin = -87.33654f;
    internal const float ExpMax = 88.0f;
    // Taylor coefficients 1/k!; with |r| <= ln2/2 the truncation error (r^7/7!) is below float's epsilon.
    internal const float C2 = 0.5f;
    internal const float C3 = 1.66666667e-1f;
    internal const float C4 = 4.16666667e-2f;
    internal const float C5 = 8.33333333e-3f;
    internal const float C6 = 1.38888889e-3f;

    /// <summary><c>lo &gt; v ? lo : v</c>, then <c>hi &lt; t ? hi : t</c>: what VMAXPS(lo, v) and VMINPS(hi, t) compute, NaN passing through.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Clamp(float v, float lo, float hi)
    {
        float t = lo > v ? lo : v;
        return hi < t ? hi : t;
    }

    /// <summary>The exponential every path computes (relative error about 2 ulp; exactly 0 below <see cref="ExpMin"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Exp(float x)
    {
        float xc = Clamp(x, ExpMin, ExpMax);
        float n = MathF.Round(xc * Log2E, MidpointRounding.ToEven);
        float r = MathF.FusedMultiplyAdd(n, -Ln2Hi, xc);
        r = MathF.FusedMultiplyAdd(n, -Ln2Lo, r);
        float p = MathF.FusedMultiplyAdd(C6, r, C5);
        p = MathF.FusedMultiplyAdd(p, r, C4);
        p = MathF.FusedMultiplyAdd(p, r, C3);
        p = MathF.FusedMultiplyAdd(p, r, C2);
        p = MathF.FusedMultiplyAdd(p, r, 1f);
        p = MathF.FusedMultiplyAdd(p, r, 1f);
        float scale = BitConverter.Int32BitsToSingle(((int)n + 127) << 23);
        float y = p * scale;
        return x < ExpMin ? 0f : y;
    }

    /// <summary>
    /// The canonical summation order of a contiguous row: 16 running lane sums (lane l takes elements
    /// 16b + l), folded pairwise (l + l+8, then l + l+4, l + l+2, l + l+1), then the tail added in order.
    /// 16 lanes are four NEON vectors, two AVX2 vectors or one AVX-512 vector, so every path can follow it.
    /// </summary>
    public static float Sum(ReadOnlySpan<float> x)
    {
        Span<float> lanes = stackalloc float[16];
        lanes.Clear();
        int full = x.Length & ~15;
        for (int i = 0; i < full; i += 16)
            for (int l = 0; l < 16; l++) lanes[l] += x[i + l];
        float total = FoldLanes(lanes);
        for (int i = full; i < x.Length; i++) total += x[i];
        return total;
    }

    /// <summary>Folds 16 lane sums in the canonical order (the caller then adds the tail elements one by one).</summary>
    public static float FoldLanes(Span<float> lanes)
    {
        for (int l = 0; l < 8; l++) lanes[l] += lanes[l + 8];
        for (int l = 0; l < 4; l++) lanes[l] += lanes[l + 4];
        for (int l = 0; l < 2; l++) lanes[l] += lanes[l + 2];
        return lanes[0] + lanes[1];
    }

    /// <summary>The running maximum as MAXPS(m, x) computes it: <c>m &gt; x ? m : x</c>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(float m, float x) => m > x ? m : x;
}
