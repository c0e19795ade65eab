using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeAgent.Kernels;

/// <summary>
/// SGEMM tiles for NEON: 6 rows x 16 columns in 24 Q-register accumulators (of 32); per k four panel loads,
/// six scalar loads of A and 24 FMLA by element (<c>fmla v.4s, v.4s, v.s[0]</c>) — the A operand never needs
/// a DUP. Rows past a multiple of 6 run the 1-row tile. Every lane is one sequential FMA chain over k, as in
/// <see cref="SgemmScalar"/>.
/// </summary>
internal static unsafe class SgemmNeon
{
    public const int Rows = 6;

    public static void Tile(in SgemmTileArgs t)
    {
        if (t.Rows == Rows) { Tile6(t); return; }
        var one = t;
        for (int r = 0; r < t.Rows; r++)
        {
            one.A = t.A + r * t.ARowStride;
            one.C = t.C + r * t.Ldc;
            Tile1(one);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Init(in SgemmTileArgs t, float* c, out Vector128<float> v0, out Vector128<float> v1, out Vector128<float> v2, out Vector128<float> v3)
    {
        float* src = t.InitFromC ? c : t.Bias;
        if (src != null)
        {
            v0 = AdvSimd.LoadVector128(src);
            v1 = AdvSimd.LoadVector128(src + 4);
            v2 = AdvSimd.LoadVector128(src + 8);
            v3 = AdvSimd.LoadVector128(src + 12);
        }
        else
        {
            v0 = v1 = v2 = v3 = Vector128<float>.Zero;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(in SgemmTileArgs t, float* c, Vector128<float> v0, Vector128<float> v1, Vector128<float> v2, Vector128<float> v3)
    {
        if (t.Clamp)
        {
            Vector128<float> lo = Vector128.Create(t.Lo), hi = Vector128.Create(t.Hi);
            v0 = FloatMathNeon.Clamp(v0, lo, hi);
            v1 = FloatMathNeon.Clamp(v1, lo, hi);
            v2 = FloatMathNeon.Clamp(v2, lo, hi);
            v3 = FloatMathNeon.Clamp(v3, lo, hi);
        }
        AdvSimd.Store(c, v0);
        AdvSimd.Store(c + 4, v1);
        AdvSimd.Store(c + 8, v2);
        AdvSimd.Store(c + 12, v3);
    }

    private static void Tile6(in SgemmTileArgs t)
    {
        nint rs = t.ARowStride, ks = t.AKStride, ldc = t.Ldc;
        float* a0 = t.A, a1 = a0 + rs, a2 = a1 + rs, a3 = a2 + rs, a4 = a3 + rs, a5 = a4 + rs;
        float* c = t.C;
        Init(t, c, out var c00, out var c01, out var c02, out var c03);
        Init(t, c + ldc, out var c10, out var c11, out var c12, out var c13);
        Init(t, c + 2 * ldc, out var c20, out var c21, out var c22, out var c23);
        Init(t, c + 3 * ldc, out var c30, out var c31, out var c32, out var c33);
        Init(t, c + 4 * ldc, out var c40, out var c41, out var c42, out var c43);
        Init(t, c + 5 * ldc, out var c50, out var c51, out var c52, out var c53);
        float* b = t.Panel;
        for (int kk = 0; kk < t.K; kk++, b += 16)
        {
            Vector128<float> b0 = AdvSimd.LoadVector128(b), b1 = AdvSimd.LoadVector128(b + 4);
            Vector128<float> b2 = AdvSimd.LoadVector128(b + 8), b3 = AdvSimd.LoadVector128(b + 12);
            nint off = kk * ks;
            Vector64<float> a = Vector64.CreateScalarUnsafe(a0[off]);
            c00 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c00, b0, a); c01 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c01, b1, a);
            c02 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c02, b2, a); c03 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c03, b3, a);
            a = Vector64.CreateScalarUnsafe(a1[off]);
            c10 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c10, b0, a); c11 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c11, b1, a);
            c12 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c12, b2, a); c13 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c13, b3, a);
            a = Vector64.CreateScalarUnsafe(a2[off]);
            c20 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c20, b0, a); c21 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c21, b1, a);
            c22 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c22, b2, a); c23 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c23, b3, a);
            a = Vector64.CreateScalarUnsafe(a3[off]);
            c30 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c30, b0, a); c31 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c31, b1, a);
            c32 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c32, b2, a); c33 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c33, b3, a);
            a = Vector64.CreateScalarUnsafe(a4[off]);
            c40 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c40, b0, a); c41 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c41, b1, a);
            c42 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c42, b2, a); c43 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c43, b3, a);
            a = Vector64.CreateScalarUnsafe(a5[off]);
            c50 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c50, b0, a); c51 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c51, b1, a);
            c52 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c52, b2, a); c53 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c53, b3, a);
        }
        Store(t, c, c00, c01, c02, c03);
        Store(t, c + ldc, c10, c11, c12, c13);
        Store(t, c + 2 * ldc, c20, c21, c22, c23);
        Store(t, c + 3 * ldc, c30, c31, c32, c33);
        Store(t, c + 4 * ldc, c40, c41, c42, c43);
        Store(t, c + 5 * ldc, c50, c51, c52, c53);
    }

    /// <summary>Panels one row runs across at once in <see cref="RowPanels"/>.</summary>
    public const int PanelGroup = 4;

    /// <summary>
    /// One row across four panels (64 columns, sixteen independent chains): what keeps M = 1 (a vector times a
    /// matrix) from waiting on one FMA chain. Panels are <paramref name="panelStride"/> floats apart, C and bias
    /// are contiguous.
    /// </summary>
    public static void RowPanels(in SgemmTileArgs t, nint panelStride)
    {
        float* c = t.C;
        Init(t, c, out var c00, out var c01, out var c02, out var c03);
        Init(Shift(t, 16), c + 16, out var c10, out var c11, out var c12, out var c13);
        Init(Shift(t, 32), c + 32, out var c20, out var c21, out var c22, out var c23);
        Init(Shift(t, 48), c + 48, out var c30, out var c31, out var c32, out var c33);
        float* b0 = t.Panel, b1 = b0 + panelStride, b2 = b1 + panelStride, b3 = b2 + panelStride, a0 = t.A;
        nint ks = t.AKStride;
        for (int kk = 0; kk < t.K; kk++)
        {
            Vector64<float> a = Vector64.CreateScalarUnsafe(a0[kk * ks]);
            nint o = kk * 16;
            c00 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c00, AdvSimd.LoadVector128(b0 + o), a);
            c01 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c01, AdvSimd.LoadVector128(b0 + o + 4), a);
            c02 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c02, AdvSimd.LoadVector128(b0 + o + 8), a);
            c03 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c03, AdvSimd.LoadVector128(b0 + o + 12), a);
            c10 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c10, AdvSimd.LoadVector128(b1 + o), a);
            c11 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c11, AdvSimd.LoadVector128(b1 + o + 4), a);
            c12 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c12, AdvSimd.LoadVector128(b1 + o + 8), a);
            c13 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c13, AdvSimd.LoadVector128(b1 + o + 12), a);
            c20 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c20, AdvSimd.LoadVector128(b2 + o), a);
            c21 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c21, AdvSimd.LoadVector128(b2 + o + 4), a);
            c22 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c22, AdvSimd.LoadVector128(b2 + o + 8), a);
            c23 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c23, AdvSimd.LoadVector128(b2 + o + 12), a);
            c30 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c30, AdvSimd.LoadVector128(b3 + o), a);
            c31 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c31, AdvSimd.LoadVector128(b3 + o + 4), a);
            c32 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c32, AdvSimd.LoadVector128(b3 + o + 8), a);
            c33 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c33, AdvSimd.LoadVector128(b3 + o + 12), a);
        }
        Store(t, c, c00, c01, c02, c03);
        Store(t, c + 16, c10, c11, c12, c13);
        Store(t, c + 32, c20, c21, c22, c23);
        Store(t, c + 48, c30, c31, c32, c33);
    }

    private static SgemmTileArgs Shift(in SgemmTileArgs t, int columns)
    {
        var s = t;
        if (s.Bias != null) s.Bias += columns;
        return s;
    }

    private static void Tile1(in SgemmTileArgs t)
    {
        Init(t, t.C, out var c0, out var c1, out var c2, out var c3);
        float* b = t.Panel, a0 = t.A;
        nint ks = t.AKStride;
        for (int kk = 0; kk < t.K; kk++, b += 16)
        {
            Vector64<float> a = Vector64.CreateScalarUnsafe(a0[kk * ks]);
            c0 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c0, AdvSimd.LoadVector128(b), a);
            c1 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c1, AdvSimd.LoadVector128(b + 4), a);
            c2 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c2, AdvSimd.LoadVector128(b + 8), a);
            c3 = AdvSimd.Arm64.FusedMultiplyAddByScalar(c3, AdvSimd.LoadVector128(b + 12), a);
        }
        Store(t, t.C, c0, c1, c2, c3);
    }
}
