using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// AVX-512BW path (.NET has no 512-bit VNNI): 6 rows x 32 columns, c2 layout with s16 weights;
/// 512-bit VPMADDWD multiplies 32 s16 pairs into 16 int32 pair sums (exact), 32 MACs per VPMADDWD + VPADDD.
/// </summary>
/// <remarks>
/// Measured on Zen 4 (see src/Kernels/README.md): a 512-bit VPMADDWD issues once per cycle (it needs both
/// 256-bit multiply pipes), so 32 MAC/cycle is this path's ceiling. Two things keep the loop near it: the
/// activations are widened to s16 once per block of rows (<see cref="Block"/>), not once per tile and panel,
/// and each k-pair issues all twelve VPMADDWD before the twelve VPADDD into the accumulators. In the
/// interleaved order (multiply, add, multiply, add) the adds take multiply-pipe slots and the loop ran
/// ~17 cycles per k-pair; grouped, ~14 (the multiplies alone: 12).
/// </remarks>
internal unsafe struct QGemm6x32Avx512 : IQGemmMicrokernel
{
    // Bytes of widened activation rows one pass over the panels works on (s16, so twice the u8 rows): in L2.
    private const int WideRowsBudgetBytes = 256 * 1024;

    [ThreadStatic] private static short[]? t_wide;

    public static int Mr => 6;
    public static int Nr => 32;

    /// <summary>Widened row stride: K rounded up to whole pairs (the packing's k-block), the odd tail zero.</summary>
    private static int WideStride(int k) => (k + 1) & ~1;

    /// <summary>Raw dot products of up to 6 rows (widened here, for callers outside <see cref="Block"/>).</summary>
    public static void Tile<TRows, TSigned>(byte* a, nint lda, int k, byte* b, int* acc)
        where TRows : struct, IRowCount where TSigned : struct, IFlag
    {
        int kw = WideStride(k);
        fixed (short* aw = WideBuffer(TRows.Value * kw))
        {
            for (int r = 0; r < TRows.Value; r++) WideActivations.WidenPadded<TSigned>(a + r * lda, aw + r * kw, k);
            TileWide<TRows>(aw, kw, kw, b, acc);
        }
    }

    /// <summary>
    /// Rows [m0, m1) x panels [p0, p1): rows in chunks whose widened copy stays in L2 while every panel passes
    /// over them; each chunk is widened once, then panels outside, row tiles inside (a panel stays in L1),
    /// epilogue after each tile.
    /// </summary>
    public static void Block(QGemmJob* job, int m0, int m1, int p0, int p1)
    {
        if (job->ASigned) Block<Yes>(job, m0, m1, p0, p1);
        else Block<No>(job, m0, m1, p0, p1);
    }

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TSigned>(QGemmJob* job, int m0, int m1, int p0, int p1) where TSigned : struct, IFlag
    {
        int k = job->K, kw = WideStride(k);
        int chunk = Math.Max(6, WideRowsBudgetBytes / (kw * sizeof(short)) / 6 * 6);
        int* acc = stackalloc int[6 * 32];
        int* colTerm = stackalloc int[32];
        fixed (short* aw = WideBuffer(Math.Min(chunk, m1 - m0) * kw))
        {
            for (int mc = m0; mc < m1; mc += chunk)
            {
                int mcEnd = Math.Min(m1, mc + chunk);
                for (int m = mc; m < mcEnd; m++)
                    WideActivations.WidenPadded<TSigned>(job->A + m * job->Lda, aw + (m - mc) * kw, k);
                for (int p = p0; p < p1; p++)
                {
                    byte* b = job->B + p * job->PanelBytes;
                    int n0 = p * 32;
                    int nc = Math.Min(32, job->N - n0);
                    QGemmEpilogue.ColumnTerms(job, n0, nc, colTerm);
                    for (int m = mc; m < mcEnd; m += 6)
                    {
                        int rows = Math.Min(6, mcEnd - m);
                        short* w = aw + (m - mc) * kw;
                        switch (rows)
                        {
                            case 1: TileWide<Rows1>(w, kw, kw, b, acc); break;
                            case 2: TileWide<Rows2>(w, kw, kw, b, acc); break;
                            case 3: TileWide<Rows3>(w, kw, kw, b, acc); break;
                            case 4: TileWide<Rows4>(w, kw, kw, b, acc); break;
                            case 5: TileWide<Rows5>(w, kw, kw, b, acc); break;
                            default: TileWide<Rows6>(w, kw, kw, b, acc); break;
                        }
                        QGemmEpilogue.Apply(job, acc, 32, colTerm, m, rows, n0, nc);
                    }
                }
            }
        }
    }

    /// <summary>This thread's widening buffer, grown to at least <paramref name="shorts"/> (kept for later calls).</summary>
    private static short[] WideBuffer(int shorts)
    {
        var buffer = t_wide;
        if (buffer is null || buffer.Length < shorts)
            t_wide = buffer = GC.AllocateUninitializedArray<short>(Math.Max(shorts, 4096), pinned: true);
        return buffer;
    }

    /// <summary>
    /// Raw dot products of <typeparamref name="TRows"/> widened rows (<paramref name="ldw"/> apart, <paramref name="kw"/>
    /// even) with one packed panel, stored to <paramref name="acc"/> (32 per row).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileWide<TRows>(short* aw, nint ldw, int kw, byte* b, int* acc) where TRows : struct, IRowCount
    {
        Vector512<int> c00 = default, c01 = default;
        Vector512<int> c10 = default, c11 = default;
        Vector512<int> c20 = default, c21 = default;
        Vector512<int> c30 = default, c31 = default;
        Vector512<int> c40 = default, c41 = default;
        Vector512<int> c50 = default, c51 = default;
        short* a0 = aw;
        short* a1 = aw + 1 * ldw;
        short* a2 = aw + 2 * ldw;
        short* a3 = aw + 3 * ldw;
        short* a4 = aw + 4 * ldw;
        short* a5 = aw + 5 * ldw;
        short* bw = (short*)b;
        for (nint i = 0; i < kw; i += 2)
        {
            var b0 = Vector512.Load(bw);
            var b1 = Vector512.Load(bw + 32);
            bw += 64;
            // Every multiply of the k-pair first, then the adds (see the remarks on the type).
            Vector512<int> t00, t01, t10 = default, t11 = default, t20 = default, t21 = default;
            Vector512<int> t30 = default, t31 = default, t40 = default, t41 = default, t50 = default, t51 = default;
            var x0 = Vector512.Create(*(int*)(a0 + i)).AsInt16();
            t00 = Avx512BW.MultiplyAddAdjacent(x0, b0);
            t01 = Avx512BW.MultiplyAddAdjacent(x0, b1);
            if (TRows.Value > 1)
            {
                var x1 = Vector512.Create(*(int*)(a1 + i)).AsInt16();
                t10 = Avx512BW.MultiplyAddAdjacent(x1, b0);
                t11 = Avx512BW.MultiplyAddAdjacent(x1, b1);
            }
            if (TRows.Value > 2)
            {
                var x2 = Vector512.Create(*(int*)(a2 + i)).AsInt16();
                t20 = Avx512BW.MultiplyAddAdjacent(x2, b0);
                t21 = Avx512BW.MultiplyAddAdjacent(x2, b1);
            }
            if (TRows.Value > 3)
            {
                var x3 = Vector512.Create(*(int*)(a3 + i)).AsInt16();
                t30 = Avx512BW.MultiplyAddAdjacent(x3, b0);
                t31 = Avx512BW.MultiplyAddAdjacent(x3, b1);
            }
            if (TRows.Value > 4)
            {
                var x4 = Vector512.Create(*(int*)(a4 + i)).AsInt16();
                t40 = Avx512BW.MultiplyAddAdjacent(x4, b0);
                t41 = Avx512BW.MultiplyAddAdjacent(x4, b1);
            }
            if (TRows.Value > 5)
            {
                var x5 = Vector512.Create(*(int*)(a5 + i)).AsInt16();
                t50 = Avx512BW.MultiplyAddAdjacent(x5, b0);
                t51 = Avx512BW.MultiplyAddAdjacent(x5, b1);
            }
            c00 += t00; c01 += t01;
            if (TRows.Value > 1)
            {
                c10 += t10; c11 += t11;
            }
            if (TRows.Value > 2)
            {
                c20 += t20; c21 += t21;
            }
            if (TRows.Value > 3)
            {
                c30 += t30; c31 += t31;
            }
            if (TRows.Value > 4)
            {
                c40 += t40; c41 += t41;
            }
            if (TRows.Value > 5)
            {
                c50 += t50; c51 += t51;
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
