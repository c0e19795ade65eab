using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// SGEMM tiles for AVX-512F: one ZMM holds a whole 16-column panel row, so a tile is 12 rows x 16 columns in
/// twelve accumulators; per k one panel load, twelve broadcasts and twelve VFMADD231PS. Remaining rows run
/// the 4-row and 1-row tiles. Every lane is one sequential FMA chain over k, as in <see cref="SgemmScalar"/>.
/// </summary>
internal static unsafe class SgemmAvx512
{
    public const int Rows = 12;

    public static void Tile(in SgemmTileArgs t)
    {
        if (t.Rows == Rows) { Tile12(t); return; }
        var part = t;
        int r = 0;
        for (; r + 4 <= t.Rows; r += 4)
        {
            part.A = t.A + r * t.ARowStride;
            part.C = t.C + r * t.Ldc;
            Tile4(part);
        }
        for (; r < t.Rows; r++)
        {
            part.A = t.A + r * t.ARowStride;
            part.C = t.C + r * t.Ldc;
            Tile1(part);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Init(in SgemmTileArgs t, float* c) =>
        t.InitFromC ? Avx512F.LoadVector512(c) : t.Bias != null ? Avx512F.LoadVector512(t.Bias) : Vector512<float>.Zero;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(in SgemmTileArgs t, float* c, Vector512<float> v)
    {
        if (t.Clamp) v = Avx512F.Min(Vector512.Create(t.Hi), Avx512F.Max(Vector512.Create(t.Lo), v));
        Avx512F.Store(c, v);
    }

    private static void Tile12(in SgemmTileArgs t)
    {
        nint rs = t.ARowStride, ks = t.AKStride, ldc = t.Ldc;
        float* a0 = t.A, a3 = a0 + 3 * rs, a6 = a0 + 6 * rs, a9 = a0 + 9 * rs;
        float* c = t.C;
        Vector512<float> c0 = Init(t, c), c1 = Init(t, c + ldc), c2 = Init(t, c + 2 * ldc), c3 = Init(t, c + 3 * ldc);
        Vector512<float> c4 = Init(t, c + 4 * ldc), c5 = Init(t, c + 5 * ldc), c6 = Init(t, c + 6 * ldc), c7 = Init(t, c + 7 * ldc);
        Vector512<float> c8 = Init(t, c + 8 * ldc), c9 = Init(t, c + 9 * ldc), c10 = Init(t, c + 10 * ldc), c11 = Init(t, c + 11 * ldc);
        float* b = t.Panel;
        for (int kk = 0; kk < t.K; kk++, b += 16)
        {
            Vector512<float> bv = Avx512F.LoadVector512(b);
            nint off = kk * ks;
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[off]), bv, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[off + rs]), bv, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[off + 2 * rs]), bv, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a3[off]), bv, c3);
            c4 = Avx512F.FusedMultiplyAdd(Vector512.Create(a3[off + rs]), bv, c4);
            c5 = Avx512F.FusedMultiplyAdd(Vector512.Create(a3[off + 2 * rs]), bv, c5);
            c6 = Avx512F.FusedMultiplyAdd(Vector512.Create(a6[off]), bv, c6);
            c7 = Avx512F.FusedMultiplyAdd(Vector512.Create(a6[off + rs]), bv, c7);
            c8 = Avx512F.FusedMultiplyAdd(Vector512.Create(a6[off + 2 * rs]), bv, c8);
            c9 = Avx512F.FusedMultiplyAdd(Vector512.Create(a9[off]), bv, c9);
            c10 = Avx512F.FusedMultiplyAdd(Vector512.Create(a9[off + rs]), bv, c10);
            c11 = Avx512F.FusedMultiplyAdd(Vector512.Create(a9[off + 2 * rs]), bv, c11);
        }
        Store(t, c, c0); Store(t, c + ldc, c1); Store(t, c + 2 * ldc, c2); Store(t, c + 3 * ldc, c3);
        Store(t, c + 4 * ldc, c4); Store(t, c + 5 * ldc, c5); Store(t, c + 6 * ldc, c6); Store(t, c + 7 * ldc, c7);
        Store(t, c + 8 * ldc, c8); Store(t, c + 9 * ldc, c9); Store(t, c + 10 * ldc, c10); Store(t, c + 11 * ldc, c11);
    }

    private static void Tile4(in SgemmTileArgs t)
    {
        nint rs = t.ARowStride, ks = t.AKStride, ldc = t.Ldc;
        float* a0 = t.A, c = t.C;
        Vector512<float> c0 = Init(t, c), c1 = Init(t, c + ldc), c2 = Init(t, c + 2 * ldc), c3 = Init(t, c + 3 * ldc);
        float* b = t.Panel;
        for (int kk = 0; kk < t.K; kk++, b += 16)
        {
            Vector512<float> bv = Avx512F.LoadVector512(b);
            nint off = kk * ks;
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[off]), bv, c0);
            c1 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[off + rs]), bv, c1);
            c2 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[off + 2 * rs]), bv, c2);
            c3 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[off + 3 * rs]), bv, c3);
        }
        Store(t, c, c0); Store(t, c + ldc, c1); Store(t, c + 2 * ldc, c2); Store(t, c + 3 * ldc, c3);
    }

    /// <summary>Panels one row runs across at once in <see cref="RowPanels"/>.</summary>
    public const int PanelGroup = 8;

    /// <summary>
    /// One row across eight panels (128 columns, eight independent chains, enough to cover the FMA latency on two
    /// ports): what keeps M = 1 (a vector times a matrix) from waiting on one chain. Panels are
    /// <paramref name="panelStride"/> floats apart, C and bias are contiguous.
    /// </summary>
    public static void RowPanels(in SgemmTileArgs t, nint panelStride)
    {
        float* c = t.C;
        Vector512<float> c0 = InitAt(t, c, 0), c1 = InitAt(t, c, 16), c2 = InitAt(t, c, 32), c3 = InitAt(t, c, 48);
        Vector512<float> c4 = InitAt(t, c, 64), c5 = InitAt(t, c, 80), c6 = InitAt(t, c, 96), c7 = InitAt(t, c, 112);
        float* b = t.Panel, a0 = t.A;
        nint ks = t.AKStride, ps = panelStride;
        for (int kk = 0; kk < t.K; kk++, b += 16)
        {
            Vector512<float> a = Vector512.Create(a0[kk * ks]);
            c0 = Avx512F.FusedMultiplyAdd(a, Avx512F.LoadVector512(b), c0);
            c1 = Avx512F.FusedMultiplyAdd(a, Avx512F.LoadVector512(b + ps), c1);
            c2 = Avx512F.FusedMultiplyAdd(a, Avx512F.LoadVector512(b + 2 * ps), c2);
            c3 = Avx512F.FusedMultiplyAdd(a, Avx512F.LoadVector512(b + 3 * ps), c3);
            c4 = Avx512F.FusedMultiplyAdd(a, Avx512F.LoadVector512(b + 4 * ps), c4);
            c5 = Avx512F.FusedMultiplyAdd(a, Avx512F.LoadVector512(b + 5 * ps), c5);
            c6 = Avx512F.FusedMultiplyAdd(a, Avx512F.LoadVector512(b + 6 * ps), c6);
            c7 = Avx512F.FusedMultiplyAdd(a, Avx512F.LoadVector512(b + 7 * ps), c7);
        }
        Store(t, c, c0); Store(t, c + 16, c1); Store(t, c + 32, c2); Store(t, c + 48, c3);
        Store(t, c + 64, c4); Store(t, c + 80, c5); Store(t, c + 96, c6); Store(t, c + 112, c7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> InitAt(in SgemmTileArgs t, float* c, int column) =>
        t.InitFromC ? Avx512F.LoadVector512(c + column) : t.Bias != null ? Avx512F.LoadVector512(t.Bias + column) : Vector512<float>.Zero;

    private static void Tile1(in SgemmTileArgs t)
    {
        Vector512<float> c0 = Init(t, t.C);
        float* b = t.Panel, a0 = t.A;
        nint ks = t.AKStride;
        for (int kk = 0; kk < t.K; kk++, b += 16)
            c0 = Avx512F.FusedMultiplyAdd(Vector512.Create(a0[kk * ks]), Avx512F.LoadVector512(b), c0);
        Store(t, t.C, c0);
    }
}
