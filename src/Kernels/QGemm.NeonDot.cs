using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeAgent.Kernels;

/// <summary>
/// ARMv8.2 dot-product path (Pi 5, Jetson Orin): 4 rows x 16 columns, c4 layout, 16 k per step. SDOT by
/// element multiplies 4 columns x 4 k of weights by 4 activations taken from one lane of a 16-byte A load:
/// 16 MACs per instruction, 64 per step against 16 weight loads and 4 activation loads. u8 activations
/// become s8 by xor 0x80 (a - 128); the epilogue adds 128 * colsum exactly.
/// </summary>
internal unsafe struct QGemm4x16NeonDot : IQGemmMicrokernel
{
    public static int Mr => 4;
    public static int Nr => 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile<TRows, TSigned>(byte* a, nint lda, int k, byte* b, int* acc)
        where TRows : struct, IRowCount where TSigned : struct, IFlag
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
        Vector128<sbyte> b0, b1, b2, b3, x0 = default, x1 = default, x2 = default, x3 = default;
        int kk = 0;
        for (; kk + 16 <= k; kk += 16)
        {
            sbyte* bs = (sbyte*)b;
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
            b0 = Vector128.Load(bs + 0); b1 = Vector128.Load(bs + 16); b2 = Vector128.Load(bs + 32); b3 = Vector128.Load(bs + 48);
            c00 = Dp.DotProductBySelectedQuadruplet(c00, b0, x0, 0);
            c01 = Dp.DotProductBySelectedQuadruplet(c01, b1, x0, 0);
            c02 = Dp.DotProductBySelectedQuadruplet(c02, b2, x0, 0);
            c03 = Dp.DotProductBySelectedQuadruplet(c03, b3, x0, 0);
            if (TRows.Value > 1)
            {
                c10 = Dp.DotProductBySelectedQuadruplet(c10, b0, x1, 0);
                c11 = Dp.DotProductBySelectedQuadruplet(c11, b1, x1, 0);
                c12 = Dp.DotProductBySelectedQuadruplet(c12, b2, x1, 0);
                c13 = Dp.DotProductBySelectedQuadruplet(c13, b3, x1, 0);
            }
            if (TRows.Value > 2)
            {
                c20 = Dp.DotProductBySelectedQuadruplet(c20, b0, x2, 0);
                c21 = Dp.DotProductBySelectedQuadruplet(c21, b1, x2, 0);
                c22 = Dp.DotProductBySelectedQuadruplet(c22, b2, x2, 0);
                c23 = Dp.DotProductBySelectedQuadruplet(c23, b3, x2, 0);
            }
            if (TRows.Value > 3)
            {
                c30 = Dp.DotProductBySelectedQuadruplet(c30, b0, x3, 0);
                c31 = Dp.DotProductBySelectedQuadruplet(c31, b1, x3, 0);
                c32 = Dp.DotProductBySelectedQuadruplet(c32, b2, x3, 0);
                c33 = Dp.DotProductBySelectedQuadruplet(c33, b3, x3, 0);
            }
            b0 = Vector128.Load(bs + 64); b1 = Vector128.Load(bs + 80); b2 = Vector128.Load(bs + 96); b3 = Vector128.Load(bs + 112);
            c00 = Dp.DotProductBySelectedQuadruplet(c00, b0, x0, 1);
            c01 = Dp.DotProductBySelectedQuadruplet(c01, b1, x0, 1);
            c02 = Dp.DotProductBySelectedQuadruplet(c02, b2, x0, 1);
            c03 = Dp.DotProductBySelectedQuadruplet(c03, b3, x0, 1);
            if (TRows.Value > 1)
            {
                c10 = Dp.DotProductBySelectedQuadruplet(c10, b0, x1, 1);
                c11 = Dp.DotProductBySelectedQuadruplet(c11, b1, x1, 1);
                c12 = Dp.DotProductBySelectedQuadruplet(c12, b2, x1, 1);
                c13 = Dp.DotProductBySelectedQuadruplet(c13, b3, x1, 1);
            }
            if (TRows.Value > 2)
            {
                c20 = Dp.DotProductBySelectedQuadruplet(c20, b0, x2, 1);
                c21 = Dp.DotProductBySelectedQuadruplet(c21, b1, x2, 1);
                c22 = Dp.DotProductBySelectedQuadruplet(c22, b2, x2, 1);
                c23 = Dp.DotProductBySelectedQuadruplet(c23, b3, x2, 1);
            }
            if (TRows.Value > 3)
            {
                c30 = Dp.DotProductBySelectedQuadruplet(c30, b0, x3, 1);
                c31 = Dp.DotProductBySelectedQuadruplet(c31, b1, x3, 1);
                c32 = Dp.DotProductBySelectedQuadruplet(c32, b2, x3, 1);
                c33 = Dp.DotProductBySelectedQuadruplet(c33, b3, x3, 1);
            }
            b0 = Vector128.Load(bs + 128); b1 = Vector128.Load(bs + 144); b2 = Vector128.Load(bs + 160); b3 = Vector128.Load(bs + 176);
            c00 = Dp.DotProductBySelectedQuadruplet(c00, b0, x0, 2);
            c01 = Dp.DotProductBySelectedQuadruplet(c01, b1, x0, 2);
            c02 = Dp.DotProductBySelectedQuadruplet(c02, b2, x0, 2);
            c03 = Dp.DotProductBySelectedQuadruplet(c03, b3, x0, 2);
            if (TRows.Value > 1)
            {
                c10 = Dp.DotProductBySelectedQuadruplet(c10, b0, x1, 2);
                c11 = Dp.DotProductBySelectedQuadruplet(c11, b1, x1, 2);
                c12 = Dp.DotProductBySelectedQuadruplet(c12, b2, x1, 2);
                c13 = Dp.DotProductBySelectedQuadruplet(c13, b3, x1, 2);
            }
            if (TRows.Value > 2)
            {
                c20 = Dp.DotProductBySelectedQuadruplet(c20, b0, x2, 2);
                c21 = Dp.DotProductBySelectedQuadruplet(c21, b1, x2, 2);
                c22 = Dp.DotProductBySelectedQuadruplet(c22, b2, x2, 2);
                c23 = Dp.DotProductBySelectedQuadruplet(c23, b3, x2, 2);
            }
            if (TRows.Value > 3)
            {
                c30 = Dp.DotProductBySelectedQuadruplet(c30, b0, x3, 2);
                c31 = Dp.DotProductBySelectedQuadruplet(c31, b1, x3, 2);
                c32 = Dp.DotProductBySelectedQuadruplet(c32, b2, x3, 2);
                c33 = Dp.DotProductBySelectedQuadruplet(c33, b3, x3, 2);
            }
            b0 = Vector128.Load(bs + 192); b1 = Vector128.Load(bs + 208); b2 = Vector128.Load(bs + 224); b3 = Vector128.Load(bs + 240);
            c00 = Dp.DotProductBySelectedQuadruplet(c00, b0, x0, 3);
            c01 = Dp.DotProductBySelectedQuadruplet(c01, b1, x0, 3);
            c02 = Dp.DotProductBySelectedQuadruplet(c02, b2, x0, 3);
            c03 = Dp.DotProductBySelectedQuadruplet(c03, b3, x0, 3);
            if (TRows.Value > 1)
            {
                c10 = Dp.DotProductBySelectedQuadruplet(c10, b0, x1, 3);
                c11 = Dp.DotProductBySelectedQuadruplet(c11, b1, x1, 3);
                c12 = Dp.DotProductBySelectedQuadruplet(c12, b2, x1, 3);
                c13 = Dp.DotProductBySelectedQuadruplet(c13, b3, x1, 3);
            }
            if (TRows.Value > 2)
            {
                c20 = Dp.DotProductBySelectedQuadruplet(c20, b0, x2, 3);
                c21 = Dp.DotProductBySelectedQuadruplet(c21, b1, x2, 3);
                c22 = Dp.DotProductBySelectedQuadruplet(c22, b2, x2, 3);
                c23 = Dp.DotProductBySelectedQuadruplet(c23, b3, x2, 3);
            }
            if (TRows.Value > 3)
            {
                c30 = Dp.DotProductBySelectedQuadruplet(c30, b0, x3, 3);
                c31 = Dp.DotProductBySelectedQuadruplet(c31, b1, x3, 3);
                c32 = Dp.DotProductBySelectedQuadruplet(c32, b2, x3, 3);
                c33 = Dp.DotProductBySelectedQuadruplet(c33, b3, x3, 3);
            }
            b += 256;
        }
        if (kk < k)
        {
            // The weights are zero-padded to a whole step; the activations are read only up to K.
            sbyte* bs = (sbyte*)b;
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
            b0 = Vector128.Load(bs + 0); b1 = Vector128.Load(bs + 16); b2 = Vector128.Load(bs + 32); b3 = Vector128.Load(bs + 48);
            c00 = Dp.DotProductBySelectedQuadruplet(c00, b0, x0, 0);
            c01 = Dp.DotProductBySelectedQuadruplet(c01, b1, x0, 0);
            c02 = Dp.DotProductBySelectedQuadruplet(c02, b2, x0, 0);
            c03 = Dp.DotProductBySelectedQuadruplet(c03, b3, x0, 0);
            if (TRows.Value > 1)
            {
                c10 = Dp.DotProductBySelectedQuadruplet(c10, b0, x1, 0);
                c11 = Dp.DotProductBySelectedQuadruplet(c11, b1, x1, 0);
                c12 = Dp.DotProductBySelectedQuadruplet(c12, b2, x1, 0);
                c13 = Dp.DotProductBySelectedQuadruplet(c13, b3, x1, 0);
            }
            if (TRows.Value > 2)
            {
                c20 = Dp.DotProductBySelectedQuadruplet(c20, b0, x2, 0);
                c21 = Dp.DotProductBySelectedQuadruplet(c21, b1, x2, 0);
                c22 = Dp.DotProductBySelectedQuadruplet(c22, b2, x2, 0);
                c23 = Dp.DotProductBySelectedQuadruplet(c23, b3, x2, 0);
            }
            if (TRows.Value > 3)
            {
                c30 = Dp.DotProductBySelectedQuadruplet(c30, b0, x3, 0);
                c31 = Dp.DotProductBySelectedQuadruplet(c31, b1, x3, 0);
                c32 = Dp.DotProductBySelectedQuadruplet(c32, b2, x3, 0);
                c33 = Dp.DotProductBySelectedQuadruplet(c33, b3, x3, 0);
            }
            b0 = Vector128.Load(bs + 64); b1 = Vector128.Load(bs + 80); b2 = Vector128.Load(bs + 96); b3 = Vector128.Load(bs + 112);
            c00 = Dp.DotProductBySelectedQuadruplet(c00, b0, x0, 1);
            c01 = Dp.DotProductBySelectedQuadruplet(c01, b1, x0, 1);
            c02 = Dp.DotProductBySelectedQuadruplet(c02, b2, x0, 1);
            c03 = Dp.DotProductBySelectedQuadruplet(c03, b3, x0, 1);
            if (TRows.Value > 1)
            {
                c10 = Dp.DotProductBySelectedQuadruplet(c10, b0, x1, 1);
                c11 = Dp.DotProductBySelectedQuadruplet(c11, b1, x1, 1);
                c12 = Dp.DotProductBySelectedQuadruplet(c12, b2, x1, 1);
                c13 = Dp.DotProductBySelectedQuadruplet(c13, b3, x1, 1);
            }
            if (TRows.Value > 2)
            {
                c20 = Dp.DotProductBySelectedQuadruplet(c20, b0, x2, 1);
                c21 = Dp.DotProductBySelectedQuadruplet(c21, b1, x2, 1);
                c22 = Dp.DotProductBySelectedQuadruplet(c22, b2, x2, 1);
                c23 = Dp.DotProductBySelectedQuadruplet(c23, b3, x2, 1);
            }
            if (TRows.Value > 3)
            {
                c30 = Dp.DotProductBySelectedQuadruplet(c30, b0, x3, 1);
                c31 = Dp.DotProductBySelectedQuadruplet(c31, b1, x3, 1);
                c32 = Dp.DotProductBySelectedQuadruplet(c32, b2, x3, 1);
                c33 = Dp.DotProductBySelectedQuadruplet(c33, b3, x3, 1);
            }
            b0 = Vector128.Load(bs + 128); b1 = Vector128.Load(bs + 144); b2 = Vector128.Load(bs + 160); b3 = Vector128.Load(bs + 176);
            c00 = Dp.DotProductBySelectedQuadruplet(c00, b0, x0, 2);
            c01 = Dp.DotProductBySelectedQuadruplet(c01, b1, x0, 2);
            c02 = Dp.DotProductBySelectedQuadruplet(c02, b2, x0, 2);
            c03 = Dp.DotProductBySelectedQuadruplet(c03, b3, x0, 2);
            if (TRows.Value > 1)
            {
                c10 = Dp.DotProductBySelectedQuadruplet(c10, b0, x1, 2);
                c11 = Dp.DotProductBySelectedQuadruplet(c11, b1, x1, 2);
                c12 = Dp.DotProductBySelectedQuadruplet(c12, b2, x1, 2);
                c13 = Dp.DotProductBySelectedQuadruplet(c13, b3, x1, 2);
            }
            if (TRows.Value > 2)
            {
                c20 = Dp.DotProductBySelectedQuadruplet(c20, b0, x2, 2);
                c21 = Dp.DotProductBySelectedQuadruplet(c21, b1, x2, 2);
                c22 = Dp.DotProductBySelectedQuadruplet(c22, b2, x2, 2);
                c23 = Dp.DotProductBySelectedQuadruplet(c23, b3, x2, 2);
            }
            if (TRows.Value > 3)
            {
                c30 = Dp.DotProductBySelectedQuadruplet(c30, b0, x3, 2);
                c31 = Dp.DotProductBySelectedQuadruplet(c31, b1, x3, 2);
                c32 = Dp.DotProductBySelectedQuadruplet(c32, b2, x3, 2);
                c33 = Dp.DotProductBySelectedQuadruplet(c33, b3, x3, 2);
            }
            b0 = Vector128.Load(bs + 192); b1 = Vector128.Load(bs + 208); b2 = Vector128.Load(bs + 224); b3 = Vector128.Load(bs + 240);
            c00 = Dp.DotProductBySelectedQuadruplet(c00, b0, x0, 3);
            c01 = Dp.DotProductBySelectedQuadruplet(c01, b1, x0, 3);
            c02 = Dp.DotProductBySelectedQuadruplet(c02, b2, x0, 3);
            c03 = Dp.DotProductBySelectedQuadruplet(c03, b3, x0, 3);
            if (TRows.Value > 1)
            {
                c10 = Dp.DotProductBySelectedQuadruplet(c10, b0, x1, 3);
                c11 = Dp.DotProductBySelectedQuadruplet(c11, b1, x1, 3);
                c12 = Dp.DotProductBySelectedQuadruplet(c12, b2, x1, 3);
                c13 = Dp.DotProductBySelectedQuadruplet(c13, b3, x1, 3);
            }
            if (TRows.Value > 2)
            {
                c20 = Dp.DotProductBySelectedQuadruplet(c20, b0, x2, 3);
                c21 = Dp.DotProductBySelectedQuadruplet(c21, b1, x2, 3);
                c22 = Dp.DotProductBySelectedQuadruplet(c22, b2, x2, 3);
                c23 = Dp.DotProductBySelectedQuadruplet(c23, b3, x2, 3);
            }
            if (TRows.Value > 3)
            {
                c30 = Dp.DotProductBySelectedQuadruplet(c30, b0, x3, 3);
                c31 = Dp.DotProductBySelectedQuadruplet(c31, b1, x3, 3);
                c32 = Dp.DotProductBySelectedQuadruplet(c32, b2, x3, 3);
                c33 = Dp.DotProductBySelectedQuadruplet(c33, b3, x3, 3);
            }
        }
        c00.Store(acc + 0); c01.Store(acc + 4); c02.Store(acc + 8); c03.Store(acc + 12);
        if (TRows.Value > 1)
        {
            c10.Store(acc + 16); c11.Store(acc + 20); c12.Store(acc + 24); c13.Store(acc + 28);
        }
        if (TRows.Value > 2)
        {
            c20.Store(acc + 32); c21.Store(acc + 36); c22.Store(acc + 40); c23.Store(acc + 44);
        }
        if (TRows.Value > 3)
        {
            c30.Store(acc + 48); c31.Store(acc + 52); c32.Store(acc + 56); c33.Store(acc + 60);
        }
    }
}

internal static unsafe class NeonLoads
{
    /// <summary>Up to 16 bytes of a row as a vector, zero-filled beyond <paramref name="count"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<sbyte> LoadPartial(byte* p, int count)
    {
        ulong lo = 0, hi = 0;
        for (int i = 0; i < count; i++)
        {
            if (i < 8) lo |= (ulong)p[i] << (8 * i);
            else hi |= (ulong)p[i] << (8 * (i - 8));
        }
        return Vector128.Create(lo, hi).AsSByte();
    }
}
