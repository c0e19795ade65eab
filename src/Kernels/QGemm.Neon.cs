using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeAgent.Kernels;

/// <summary>
/// ARMv8.0 NEON path (Pi 3/4, Jetson Nano): 4 rows x 4 columns, c16 layout (16 consecutive k per column).
/// Per row and column, SMULL multiplies 8 s8 pairs into s16, SMLAL2 adds the other 8, and SADALP folds
/// the 8 s16 pair sums into 4 int32 lanes: 16 MACs in 3 instructions; the lanes are reduced with ADDP once
/// per tile. Two s8 x s8 products fit s16 unless both weights are -128, so weights holding -128 take
/// <see cref="QGemm4x4c16NeonSmull"/> (SMULL, SMULL2, 2 x SADALP: exact for any data). u8 activations
/// become s8 by xor 0x80; the epilogue corrects by 128 * colsum.
/// </summary>
internal unsafe struct QGemm4x4c16Neon : IQGemmMicrokernel
{
    public static int Mr => 4;
    public static int Nr => 4;

    public static void Tile<TRows, TSigned>(byte* a, nint lda, int k, byte* b, int* acc)
        where TRows : struct, IRowCount where TSigned : struct, IFlag => NeonC16.Tile<TRows, TSigned, No>(a, lda, k, b, acc);

    /// <summary>Picks the exact-for-any-weights variant when the packing saw a -128.</summary>
    public static void Block(QGemmJob* job, int m0, int m1, int p0, int p1)
    {
        if (job->WeightsHaveMinus128) QGemmDriver.Block<QGemm4x4c16NeonSmull>(job, m0, m1, p0, p1);
        else QGemmDriver.Block<QGemm4x4c16Neon>(job, m0, m1, p0, p1);
    }
}

/// <summary>The NEON 4x4 tile for weights that contain -128: no 16-bit pair sums, 16 MACs in 4 instructions.</summary>
internal unsafe struct QGemm4x4c16NeonSmull : IQGemmMicrokernel
{
    public static int Mr => 4;
    public static int Nr => 4;

    public static void Tile<TRows, TSigned>(byte* a, nint lda, int k, byte* b, int* acc)
        where TRows : struct, IRowCount where TSigned : struct, IFlag => NeonC16.Tile<TRows, TSigned, Yes>(a, lda, k, b, acc);
}

internal static unsafe class NeonC16
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile<TRows, TSigned, TExact>(byte* a, nint lda, int k, byte* b, int* acc)
        where TRows : struct, IRowCount where TSigned : struct, IFlag where TExact : struct, IFlag
    {
        Vector128<int> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector128<int> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector128<int> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector128<int> c30 = default, c31 = default, c32 = default, c33 = default;
        byte* a0 = a + 0 * lda;
        byte* a1 = a + 1 * lda;
        byte* a2 = a + 2 * lda;
        byte* a3 = a + 3 * lda;
        var flip = Vector128.Create((byte)0x80).AsSByte();
        Vector128<sbyte> bj, x0 = default, x1 = default, x2 = default, x3 = default;
        int kk = 0;
        for (; kk + 16 <= k; kk += 16)
        {
            x0 = Vector128.Load((sbyte*)(a0 + kk));
            if (!TSigned.Value) x0 ^= flip;
            if (TRows.Value > 1)
            {
                x1 = Vector128.Load((sbyte*)(a1 + kk));
                if (!TSigned.Value) x1 ^= flip;
            }
            if (TRows.Value > 2)
            {
                x2 = Vector128.Load((sbyte*)(a2 + kk));
                if (!TSigned.Value) x2 ^= flip;
            }
            if (TRows.Value > 3)
            {
                x3 = Vector128.Load((sbyte*)(a3 + kk));
                if (!TSigned.Value) x3 ^= flip;
            }
            bj = Vector128.Load((sbyte*)b + 0);
            c00 = Mac<TExact>(c00, x0, bj);
            if (TRows.Value > 1)
            {
                c10 = Mac<TExact>(c10, x1, bj);
            }
            if (TRows.Value > 2)
            {
                c20 = Mac<TExact>(c20, x2, bj);
            }
            if (TRows.Value > 3)
            {
                c30 = Mac<TExact>(c30, x3, bj);
            }
            bj = Vector128.Load((sbyte*)b + 16);
            c01 = Mac<TExact>(c01, x0, bj);
            if (TRows.Value > 1)
            {
                c11 = Mac<TExact>(c11, x1, bj);
            }
            if (TRows.Value > 2)
            {
                c21 = Mac<TExact>(c21, x2, bj);
            }
            if (TRows.Value > 3)
            {
                c31 = Mac<TExact>(c31, x3, bj);
            }
            bj = Vector128.Load((sbyte*)b + 32);
            c02 = Mac<TExact>(c02, x0, bj);
            if (TRows.Value > 1)
            {
                c12 = Mac<TExact>(c12, x1, bj);
            }
            if (TRows.Value > 2)
            {
                c22 = Mac<TExact>(c22, x2, bj);
            }
            if (TRows.Value > 3)
            {
                c32 = Mac<TExact>(c32, x3, bj);
            }
            bj = Vector128.Load((sbyte*)b + 48);
            c03 = Mac<TExact>(c03, x0, bj);
            if (TRows.Value > 1)
            {
                c13 = Mac<TExact>(c13, x1, bj);
            }
            if (TRows.Value > 2)
            {
                c23 = Mac<TExact>(c23, x2, bj);
            }
            if (TRows.Value > 3)
            {
                c33 = Mac<TExact>(c33, x3, bj);
            }
            b += 64;
        }
        if (kk < k)
        {
            x0 = NeonLoads.LoadPartial(a0 + kk, k - kk);
            if (!TSigned.Value) x0 ^= flip;
            if (TRows.Value > 1)
            {
                x1 = NeonLoads.LoadPartial(a1 + kk, k - kk);
                if (!TSigned.Value) x1 ^= flip;
            }
            if (TRows.Value > 2)
            {
                x2 = NeonLoads.LoadPartial(a2 + kk, k - kk);
                if (!TSigned.Value) x2 ^= flip;
            }
            if (TRows.Value > 3)
            {
                x3 = NeonLoads.LoadPartial(a3 + kk, k - kk);
                if (!TSigned.Value) x3 ^= flip;
            }
            bj = Vector128.Load((sbyte*)b + 0);
            c00 = Mac<TExact>(c00, x0, bj);
            if (TRows.Value > 1)
            {
                c10 = Mac<TExact>(c10, x1, bj);
            }
            if (TRows.Value > 2)
            {
                c20 = Mac<TExact>(c20, x2, bj);
            }
            if (TRows.Value > 3)
            {
                c30 = Mac<TExact>(c30, x3, bj);
            }
            bj = Vector128.Load((sbyte*)b + 16);
            c01 = Mac<TExact>(c01, x0, bj);
            if (TRows.Value > 1)
            {
                c11 = Mac<TExact>(c11, x1, bj);
            }
            if (TRows.Value > 2)
            {
                c21 = Mac<TExact>(c21, x2, bj);
            }
            if (TRows.Value > 3)
            {
                c31 = Mac<TExact>(c31, x3, bj);
            }
            bj = Vector128.Load((sbyte*)b + 32);
            c02 = Mac<TExact>(c02, x0, bj);
            if (TRows.Value > 1)
            {
                c12 = Mac<TExact>(c12, x1, bj);
            }
            if (TRows.Value > 2)
            {
                c22 = Mac<TExact>(c22, x2, bj);
            }
            if (TRows.Value > 3)
            {
                c32 = Mac<TExact>(c32, x3, bj);
            }
            bj = Vector128.Load((sbyte*)b + 48);
            c03 = Mac<TExact>(c03, x0, bj);
            if (TRows.Value > 1)
            {
                c13 = Mac<TExact>(c13, x1, bj);
            }
            if (TRows.Value > 2)
            {
                c23 = Mac<TExact>(c23, x2, bj);
            }
            if (TRows.Value > 3)
            {
                c33 = Mac<TExact>(c33, x3, bj);
            }
        }
        AdvSimd.Arm64.AddPairwise(AdvSimd.Arm64.AddPairwise(c00, c01), AdvSimd.Arm64.AddPairwise(c02, c03)).Store(acc + 0);
        if (TRows.Value > 1)
        {
            AdvSimd.Arm64.AddPairwise(AdvSimd.Arm64.AddPairwise(c10, c11), AdvSimd.Arm64.AddPairwise(c12, c13)).Store(acc + 4);
        }
        if (TRows.Value > 2)
        {
            AdvSimd.Arm64.AddPairwise(AdvSimd.Arm64.AddPairwise(c20, c21), AdvSimd.Arm64.AddPairwise(c22, c23)).Store(acc + 8);
        }
        if (TRows.Value > 3)
        {
            AdvSimd.Arm64.AddPairwise(AdvSimd.Arm64.AddPairwise(c30, c31), AdvSimd.Arm64.AddPairwise(c32, c33)).Store(acc + 12);
        }
    }

    /// <summary>acc += the 16 products of x and w, pairwise summed into 4 int32 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Mac<TExact>(Vector128<int> acc, Vector128<sbyte> x, Vector128<sbyte> w) where TExact : struct, IFlag
    {
        if (TExact.Value)
        {
            acc = AdvSimd.AddPairwiseWideningAndAdd(acc, AdvSimd.MultiplyWideningLower(x.GetLower(), w.GetLower()));
            return AdvSimd.AddPairwiseWideningAndAdd(acc, AdvSimd.MultiplyWideningUpper(x, w));
        }
        var p = AdvSimd.MultiplyWideningLower(x.GetLower(), w.GetLower());
        return AdvSimd.AddPairwiseWideningAndAdd(acc, AdvSimd.MultiplyWideningUpperAndAdd(p, x, w));
    }
}
