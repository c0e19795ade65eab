using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// SGEMM tiles for AVX2/FMA: 6 rows x 16 columns in twelve YMM accumulators; per k two panel loads, six
/// VBROADCASTSS and twelve VFMADD231PS. Rows past a multiple of 6 run the 1-row tile. Every lane is one
/// sequential FMA chain over k, as in <see cref="SgemmScalar"/>.
/// </summary>
internal static unsafe class SgemmAvx2
{
    public const int Rows = 6;

    public static void Tile(in SgemmTileArgs t)
    {
        if (t.Rows == Rows) { Tile6(t); return; }
        var one = t;
        one.Rows = 1;
        for (int r = 0; r < t.Rows; r++)
        {
            one.A = t.A + r * t.ARowStride;
            one.C = t.C + r * t.Ldc;
            Tile1(one);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Init(in SgemmTileArgs t, float* c, out Vector256<float> lo, out Vector256<float> hi)
    {
        if (t.InitFromC) { lo = Avx.LoadVector256(c); hi = Avx.LoadVector256(c + 8); }
        else if (t.Bias != null) { lo = Avx.LoadVector256(t.Bias); hi = Avx.LoadVector256(t.Bias + 8); }
        else { lo = hi = Vector256<float>.Zero; }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(in SgemmTileArgs t, float* c, Vector256<float> lo, Vector256<float> hi)
    {
        if (t.Clamp)
        {
            Vector256<float> min = Vector256.Create(t.Lo), max = Vector256.Create(t.Hi);
            lo = FloatMathAvx2.Clamp(lo, min, max);
            hi = FloatMathAvx2.Clamp(hi, min, max);
        }
        Avx.Store(c, lo);
        Avx.Store(c + 8, hi);
    }

    private static void Tile6(in SgemmTileArgs t)
    {
        nint rs = t.ARowStride, ks = t.AKStride, ldc = t.Ldc;
        float* a0 = t.A, a1 = a0 + rs, a2 = a1 + rs, a3 = a2 + rs, a4 = a3 + rs, a5 = a4 + rs;
        float* c = t.C;
        Init(t, c, out var c00, out var c01);
        Init(t, c + ldc, out var c10, out var c11);
        Init(t, c + 2 * ldc, out var c20, out var c21);
        Init(t, c + 3 * ldc, out var c30, out var c31);
        Init(t, c + 4 * ldc, out var c40, out var c41);
        Init(t, c + 5 * ldc, out var c50, out var c51);
        float* b = t.Panel;
        for (int kk = 0; kk < t.K; kk++, b += 16)
        {
            Vector256<float> b0 = Avx.LoadVector256(b), b1 = Avx.LoadVector256(b + 8);
            nint off = kk * ks;
            Vector256<float> a = Vector256.Create(a0[off]);
            c00 = Fma.MultiplyAdd(a, b0, c00); c01 = Fma.MultiplyAdd(a, b1, c01);
            a = Vector256.Create(a1[off]);
            c10 = Fma.MultiplyAdd(a, b0, c10); c11 = Fma.MultiplyAdd(a, b1, c11);
            a = Vector256.Create(a2[off]);
            c20 = Fma.MultiplyAdd(a, b0, c20); c21 = Fma.MultiplyAdd(a, b1, c21);
            a = Vector256.Create(a3[off]);
            c30 = Fma.MultiplyAdd(a, b0, c30); c31 = Fma.MultiplyAdd(a, b1, c31);
            a = Vector256.Create(a4[off]);
            c40 = Fma.MultiplyAdd(a, b0, c40); c41 = Fma.MultiplyAdd(a, b1, c41);
            a = Vector256.Create(a5[off]);
            c50 = Fma.MultiplyAdd(a, b0, c50); c51 = Fma.MultiplyAdd(a, b1, c51);
        }
        Store(t, c, c00, c01);
        Store(t, c + ldc, c10, c11);
        Store(t, c + 2 * ldc, c20, c21);
        Store(t, c + 3 * ldc, c30, c31);
        Store(t, c + 4 * ldc, c40, c41);
        Store(t, c + 5 * ldc, c50, c51);
    }

    /// <summary>Panels one row runs across at once in <see cref="RowPanels"/>.</summary>
    public const int PanelGroup = 4;

    /// <summary>
    /// One row across four panels (64 columns, eight independent chains): what keeps M = 1 (a vector times a
    /// matrix) from waiting on one FMA chain. Panels are <paramref name="panelStride"/> floats apart, C and bias
    /// are contiguous.
    /// </summary>
    public static void RowPanels(in SgemmTileArgs t, nint panelStride)
    {
        float* c = t.C;
        Init(t, c, out var c00, out var c01);
        Init(Shift(t, 16), c + 16, out var c10, out var c11);
        Init(Shift(t, 32), c + 32, out var c20, out var c21);
        Init(Shift(t, 48), c + 48, out var c30, out var c31);
        float* b0 = t.Panel, b1 = b0 + panelStride, b2 = b1 + panelStride, b3 = b2 + panelStride, a0 = t.A;
        nint ks = t.AKStride;
        for (int kk = 0; kk < t.K; kk++)
        {
            Vector256<float> a = Vector256.Create(a0[kk * ks]);
            nint o = kk * 16;
            c00 = Fma.MultiplyAdd(a, Avx.LoadVector256(b0 + o), c00); c01 = Fma.MultiplyAdd(a, Avx.LoadVector256(b0 + o + 8), c01);
            c10 = Fma.MultiplyAdd(a, Avx.LoadVector256(b1 + o), c10); c11 = Fma.MultiplyAdd(a, Avx.LoadVector256(b1 + o + 8), c11);
            c20 = Fma.MultiplyAdd(a, Avx.LoadVector256(b2 + o), c20); c21 = Fma.MultiplyAdd(a, Avx.LoadVector256(b2 + o + 8), c21);
            c30 = Fma.MultiplyAdd(a, Avx.LoadVector256(b3 + o), c30); c31 = Fma.MultiplyAdd(a, Avx.LoadVector256(b3 + o + 8), c31);
        }
        Store(t, c, c00, c01);
        Store(t, c + 16, c10, c11);
        Store(t, c + 32, c20, c21);
        Store(t, c + 48, c30, c31);
    }

    private static SgemmTileArgs Shift(in SgemmTileArgs t, int columns)
    {
        var s = t;
        if (s.Bias != null) s.Bias += columns;
        return s;
    }

    private static void Tile1(in SgemmTileArgs t)
    {
        Init(t, t.C, out var c0, out var c1);
        float* b = t.Panel, a0 = t.A;
        nint ks = t.AKStride;
        for (int kk = 0; kk < t.K; kk++, b += 16)
        {
            Vector256<float> a = Vector256.Create(a0[kk * ks]);
            c0 = Fma.MultiplyAdd(a, Avx.LoadVector256(b), c0);
            c1 = Fma.MultiplyAdd(a, Avx.LoadVector256(b + 8), c1);
        }
        Store(t, t.C, c0, c1);
    }
}
