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
internal static unsafe class QGemm6x32Avx512
{
    // Bytes of widened activation rows one pass over the panels works on (s16, so twice the u8 rows): in L2.
    private const int WideRowsBudgetBytes = 256 * 1024;
    private const int SmallWideShorts = 2048;

    [ThreadStatic] private static short[]? t_wide;

    /// <summary>Widened row stride: K rounded up to whole pairs (the packing's k-block), the odd tail zero.</summary>
    private static int WideStride(int k) => (k + 1) & ~1;

    /// <summary>
    /// Rows [m0, m1) x panels [p0, p1): rows in chunks whose widened copy stays in L2 while every panel passes
    /// over them; each chunk is widened once, then panels outside, row tiles inside (a panel stays in L1).
    /// Full panels with symmetric weights finish in registers (<see cref="IQGemmTileSink"/>, two 16-column
    /// halves); a last partial panel and asymmetric weights go through stored tiles and <see cref="QGemmEpilogue.Apply"/>.
    /// </summary>
    public static void Block(QGemmJob* job, int m0, int m1, int p0, int p1) =>
        TileSinksAvx512.Block<Blocks, RawTileSink<TileStride32>>(job, m0, m1, p0, p1);

    /// <summary>This kernel's block for <see cref="TileSinksAvx512"/>.</summary>
    private struct Blocks : ISinkedBlock
    {
        public static void Block<TSink>(QGemmJob* job, int m0, int m1, int p0, int p1) where TSink : struct, IQGemmTileSink =>
            QGemm6x32Avx512.Block<TSink>(job, m0, m1, p0, p1);
    }

    private static void Block<TSink>(QGemmJob* job, int m0, int m1, int p0, int p1) where TSink : struct, IQGemmTileSink
    {
        if (job->ASigned) Block<Yes, TSink>(job, m0, m1, p0, p1);
        else Block<No, TSink>(job, m0, m1, p0, p1);
    }

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TSigned, TSink>(QGemmJob* job, int m0, int m1, int p0, int p1)
        where TSigned : struct, IFlag where TSink : struct, IQGemmTileSink
    {
        int k = job->K, kw = WideStride(k);
        int chunk = Math.Max(6, WideRowsBudgetBytes / (kw * sizeof(short)) / 6 * 6);
        int wideShorts = Math.Min(chunk, m1 - m0) * kw;
        // A few rows (a GEMV) widen on the stack: the call is short enough for the thread-static lookup to show.
        if (wideShorts <= SmallWideShorts)
        {
            short* small = stackalloc short[SmallWideShorts];
            Block<TSigned, TSink>(job, m0, m1, p0, p1, small, chunk);
            return;
        }
        fixed (short* aw = WideBuffer(wideShorts)) Block<TSigned, TSink>(job, m0, m1, p0, p1, aw, chunk);
    }

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TSigned, TSink>(QGemmJob* job, int m0, int m1, int p0, int p1, short* aw, int chunk)
        where TSigned : struct, IFlag where TSink : struct, IQGemmTileSink
    {
        int k = job->K, kw = WideStride(k);
        int* acc = stackalloc int[6 * 32];
        int* colTerm = stackalloc int[32];
        // Not zeroed (~1 KB): Prepare fills what the sinks read; the stored-tile path reads only Acc.
        Unsafe.SkipInit(out QGemmTileOutput o0);
        Unsafe.SkipInit(out QGemmTileOutput o1);
        o0.Acc = acc;
        o1.Acc = acc + 16;
        for (int mc = m0; mc < m1; mc += chunk)
        {
            int mcEnd = Math.Min(m1, mc + chunk);
            // Rows back to back (a pointwise convolution's NHWC input) widen as one run: at K = 16 the per-row
            // calls cost a third of the multiply-adds. With odd K and stride K + 1 the byte after each row
            // lands on the last pair's zero weight, so it need not be zero itself.
            if (job->Lda == kw)
                WideActivations.WidenPadded<TSigned>(job->A + mc * job->Lda, aw, (mcEnd - mc) * kw);
            else
                for (int m = mc; m < mcEnd; m++)
                    WideActivations.WidenPadded<TSigned>(job->A + m * job->Lda, aw + (m - mc) * kw, k);
            for (int p = p0; p < p1; p++)
            {
                byte* b = job->B + p * job->PanelBytes;
                int n0 = p * 32;
                int nc = Math.Min(32, job->N - n0);
                QGemmEpilogue.ColumnTerms(job, n0, nc, colTerm);
                // One or two rows (a GEMV) do not repay the two sinks' per-panel setup: stored tile + Apply.
                if (typeof(TSink) != typeof(RawTileSink<TileStride32>) && nc == 32 && mcEnd - mc > 2)
                {
                    o0.Prepare(job, colTerm, n0);
                    o1.Prepare(job, colTerm + 16, n0 + 16);
                    byte* c0 = job->C + QGemmTileOutput.ColumnOffset(job, n0);
                    byte* c1 = job->C + QGemmTileOutput.ColumnOffset(job, n0 + 16);
                    for (int m = mc; m < mcEnd; m += 6)
                    {
                        o0.C = c0 + m * o0.LdcBytes;
                        o1.C = c1 + m * o0.LdcBytes;
                        Tile<TSink>(aw + (m - mc) * kw, kw, Math.Min(6, mcEnd - m), b, &o0, &o1);
                    }
                    continue;
                }
                for (int m = mc; m < mcEnd; m += 6)
                {
                    int rows = Math.Min(6, mcEnd - m);
                    Tile<RawTileSink<TileStride32>>(aw + (m - mc) * kw, kw, rows, b, &o0, &o1);
                    QGemmEpilogue.Apply(job, acc, 32, colTerm, m, rows, n0, nc);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile<TSink>(short* aw, int kw, int rows, byte* b, QGemmTileOutput* o0, QGemmTileOutput* o1)
        where TSink : struct, IQGemmTileSink
    {
        switch (rows)
        {
            case 1: TileWide<Rows1, TSink>(aw, kw, b, o0, o1); break;
            case 2: TileWide<Rows2, TSink>(aw, kw, b, o0, o1); break;
            case 3: TileWide<Rows3, TSink>(aw, kw, b, o0, o1); break;
            case 4: TileWide<Rows4, TSink>(aw, kw, b, o0, o1); break;
            case 5: TileWide<Rows5, TSink>(aw, kw, b, o0, o1); break;
            default: TileWide<Rows6, TSink>(aw, kw, b, o0, o1); break;
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
    /// <typeparamref name="TRows"/> widened rows <paramref name="kw"/> shorts apart (K rounded up to whole pairs) times one
    /// packed panel; columns 0..15 start from and leave through <paramref name="o0"/>, 16..31 through <paramref name="o1"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileWide<TRows, TSink>(short* aw, int kw, byte* b, QGemmTileOutput* o0, QGemmTileOutput* o1)
        where TRows : struct, IRowCount where TSink : struct, IQGemmTileSink
    {
        Vector512<int> c00 = Avx512F.InsertVector256(TSink.Start0(o0).ToVector512Unsafe(), TSink.Start1(o0), 1);
        Vector512<int> c01 = Avx512F.InsertVector256(TSink.Start0(o1).ToVector512Unsafe(), TSink.Start1(o1), 1);
        Vector512<int> c10 = c00, c11 = c01;
        Vector512<int> c20 = c00, c21 = c01;
        Vector512<int> c30 = c00, c31 = c01;
        Vector512<int> c40 = c00, c41 = c01;
        Vector512<int> c50 = c00, c51 = c01;
        short* a0 = aw;
        short* a1 = aw + 1 * kw;
        short* a2 = aw + 2 * kw;
        short* a3 = aw + 3 * kw;
        short* a4 = aw + 4 * kw;
        short* a5 = aw + 5 * kw;
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
        // Rows leave in fours and pairs, each 16-column half through its own output.
        switch (TRows.Value)
        {
            case 1:
                TSink.Row(o0, 0, c00.GetLower(), c00.GetUpper());
                TSink.Row(o1, 0, c01.GetLower(), c01.GetUpper());
                break;
            case 2:
            case 3:
                TSink.Rows2(o0, 0, c00.GetLower(), c00.GetUpper(), c10.GetLower(), c10.GetUpper());
                TSink.Rows2(o1, 0, c01.GetLower(), c01.GetUpper(), c11.GetLower(), c11.GetUpper());
                if (TRows.Value == 3)
                {
                    TSink.Row(o0, 2, c20.GetLower(), c20.GetUpper());
                    TSink.Row(o1, 2, c21.GetLower(), c21.GetUpper());
                }
                break;
            default:
                TSink.Rows4(o0, 0, c00.GetLower(), c00.GetUpper(), c10.GetLower(), c10.GetUpper(),
                    c20.GetLower(), c20.GetUpper(), c30.GetLower(), c30.GetUpper());
                TSink.Rows4(o1, 0, c01.GetLower(), c01.GetUpper(), c11.GetLower(), c11.GetUpper(),
                    c21.GetLower(), c21.GetUpper(), c31.GetLower(), c31.GetUpper());
                if (TRows.Value == 5)
                {
                    TSink.Row(o0, 4, c40.GetLower(), c40.GetUpper());
                    TSink.Row(o1, 4, c41.GetLower(), c41.GetUpper());
                }
                else if (TRows.Value == 6)
                {
                    TSink.Rows2(o0, 4, c40.GetLower(), c40.GetUpper(), c50.GetLower(), c50.GetUpper());
                    TSink.Rows2(o1, 4, c41.GetLower(), c41.GetUpper(), c51.GetLower(), c51.GetUpper());
                }
                break;
        }
    }
}
