using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// AVX-512BW path (.NET has no 512-bit VNNI): 6 rows x 32 columns, c2 layout with s16 weights;
/// 512-bit VPMADDWD multiplies 32 s16 pairs into 16 int32 pair sums (exact), 32 MACs per VPMADDWD + VPADDD.
/// </summary>
internal unsafe struct QGemm6x32Avx512 : IQGemmMicrokernel
{
    // Activations are widened to s16 this many k at a time into a stack buffer (whole pairs, zero-padded).
    private const int Kc = 512;

    public static int Mr => 6;
    public static int Nr => 32;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    public static void Tile<TRows, TSigned>(byte* a, nint lda, int k, byte* b, int* acc)
        where TRows : struct, IRowCount where TSigned : struct, IFlag
    {
        short* aw = stackalloc short[6 * Kc];
        Vector512<int> c00 = default, c01 = default;
        Vector512<int> c10 = default, c11 = default;
        Vector512<int> c20 = default, c21 = default;
        Vector512<int> c30 = default, c31 = default;
        Vector512<int> c40 = default, c41 = default;
        Vector512<int> c50 = default, c51 = default;
        byte* a0 = a + 0 * lda;
        byte* a1 = a + 1 * lda;
        byte* a2 = a + 2 * lda;
        byte* a3 = a + 3 * lda;
        byte* a4 = a + 4 * lda;
        byte* a5 = a + 5 * lda;
        for (int kc = 0; kc < k; kc += Kc)
        {
            int len = Math.Min(Kc, k - kc);
            WideActivations.Widen<TSigned>(a0 + kc, aw + 0 * Kc, len);
            if (TRows.Value > 1)
            {
                WideActivations.Widen<TSigned>(a1 + kc, aw + 1 * Kc, len);
            }
            if (TRows.Value > 2)
            {
                WideActivations.Widen<TSigned>(a2 + kc, aw + 2 * Kc, len);
            }
            if (TRows.Value > 3)
            {
                WideActivations.Widen<TSigned>(a3 + kc, aw + 3 * Kc, len);
            }
            if (TRows.Value > 4)
            {
                WideActivations.Widen<TSigned>(a4 + kc, aw + 4 * Kc, len);
            }
            if (TRows.Value > 5)
            {
                WideActivations.Widen<TSigned>(a5 + kc, aw + 5 * Kc, len);
            }
            for (int i = 0; i < len; i += 2)
            {
                var b0 = Vector512.Load((short*)b);
                var b1 = Vector512.Load((short*)b + 32);
                b += 128;
                var x0 = Vector512.Create(*(int*)(aw + 0 * Kc + i)).AsInt16();
                c00 += Avx512BW.MultiplyAddAdjacent(x0, b0);
                c01 += Avx512BW.MultiplyAddAdjacent(x0, b1);
                if (TRows.Value > 1)
                {
                    var x1 = Vector512.Create(*(int*)(aw + 1 * Kc + i)).AsInt16();
                    c10 += Avx512BW.MultiplyAddAdjacent(x1, b0);
                    c11 += Avx512BW.MultiplyAddAdjacent(x1, b1);
                }
                if (TRows.Value > 2)
                {
                    var x2 = Vector512.Create(*(int*)(aw + 2 * Kc + i)).AsInt16();
                    c20 += Avx512BW.MultiplyAddAdjacent(x2, b0);
                    c21 += Avx512BW.MultiplyAddAdjacent(x2, b1);
                }
                if (TRows.Value > 3)
                {
                    var x3 = Vector512.Create(*(int*)(aw + 3 * Kc + i)).AsInt16();
                    c30 += Avx512BW.MultiplyAddAdjacent(x3, b0);
                    c31 += Avx512BW.MultiplyAddAdjacent(x3, b1);
                }
                if (TRows.Value > 4)
                {
                    var x4 = Vector512.Create(*(int*)(aw + 4 * Kc + i)).AsInt16();
                    c40 += Avx512BW.MultiplyAddAdjacent(x4, b0);
                    c41 += Avx512BW.MultiplyAddAdjacent(x4, b1);
                }
                if (TRows.Value > 5)
                {
                    var x5 = Vector512.Create(*(int*)(aw + 5 * Kc + i)).AsInt16();
                    c50 += Avx512BW.MultiplyAddAdjacent(x5, b0);
                    c51 += Avx512BW.MultiplyAddAdjacent(x5, b1);
                }
            }
        }
        c00.Store(acc + 0); c01.Store(acc + 16);
        if (TRows.Value > 1)
        {
            c10.Store(acc + 32); c11.Store(acc + 48);
        }
        if (TRows.Value > 2)
        {
            c20.Store(acc + 64); c21.Store(acc + 80);
        }
        if (TRows.Value > 3)
        {
            c30.Store(acc + 96); c31.Store(acc + 112);
        }
        if (TRows.Value > 4)
        {
            c40.Store(acc + 128); c41.Store(acc + 144);
        }
        if (TRows.Value > 5)
        {
            c50.Store(acc + 160); c51.Store(acc + 176);
        }
    }
}
