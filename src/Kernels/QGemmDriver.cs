using System.Runtime.CompilerServices;

namespace EdgeAgent.Kernels;

/// <summary>
/// Walks a block of the output tile by tile for one microkernel: chunks of rows that fit in L2 outside, then
/// panels (a panel of B stays in L1 while every row tile of the chunk passes over it), row tiles inside,
/// epilogue after each tile.
/// </summary>
internal static unsafe class QGemmDriver
{
    // Bytes of A rows one pass over the panels works on: well inside a core's L2 (512 KB on Cortex-A76,
    // 1 MB on Zen 4/5; the Pi 3 shares 512 KB between four cores), leaving room for the panels and the output.
    private const int ARowsBudgetBytes = 128 * 1024;

    public static void Block<TK>(QGemmJob* job, int m0, int m1, int p0, int p1) where TK : struct, IQGemmMicrokernel
    {
        if (job->ASigned) Block<TK, Yes>(job, m0, m1, p0, p1);
        else Block<TK, No>(job, m0, m1, p0, p1);
    }

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TK, TS>(QGemmJob* job, int m0, int m1, int p0, int p1)
        where TK : struct, IQGemmMicrokernel where TS : struct, IFlag
    {
        int mr = TK.Mr, nr = TK.Nr;
        int* acc = stackalloc int[6 * 64];
        int* colTerm = stackalloc int[64];
        // Rows of A in chunks that stay in L2 while every panel of the block passes over them: otherwise a
        // tall A (im2col of a large image) is streamed from memory once per panel.
        int chunk = Math.Max(mr, ARowsBudgetBytes / Math.Max(1, job->K) / mr * mr);
        for (int mc = m0; mc < m1; mc += chunk)
        {
            int mcEnd = Math.Min(m1, mc + chunk);
            for (int p = p0; p < p1; p++)
            {
                byte* b = job->B + p * job->PanelBytes;
                int n0 = p * nr;
                int nc = Math.Min(nr, job->N - n0);
                QGemmEpilogue.ColumnTerms(job, n0, nc, colTerm);
                for (int m = mc; m < mcEnd; m += mr)
                {
                    int rows = Math.Min(mr, mcEnd - m);
                    byte* a = job->A + m * job->Lda;
                    switch (rows)
                    {
                        case 1: TK.Tile<Rows1, TS>(a, job->Lda, job->K, b, acc); break;
                        case 2: TK.Tile<Rows2, TS>(a, job->Lda, job->K, b, acc); break;
                        case 3: TK.Tile<Rows3, TS>(a, job->Lda, job->K, b, acc); break;
                        case 4: TK.Tile<Rows4, TS>(a, job->Lda, job->K, b, acc); break;
                        case 5: TK.Tile<Rows5, TS>(a, job->Lda, job->K, b, acc); break;
                        default: TK.Tile<Rows6, TS>(a, job->Lda, job->K, b, acc); break;
                    }
                    QGemmEpilogue.Apply(job, acc, nr, colTerm, m, rows, n0, nc);
                }
            }
        }
    }

    /// <summary>
    /// As <see cref="Block{TK}"/>, but the last one or two rows of the block (all of it when M is 1 or 2) go
    /// through the one-row kernel <typeparamref name="TR"/>, four panels at a time, instead of a thin tile.
    /// </summary>
    public static void BlockWithRowKernel<TK, TR>(QGemmJob* job, int m0, int m1, int p0, int p1)
        where TK : struct, IQGemmMicrokernel where TR : struct, IQGemmRowMicrokernel
    {
        int rows = m1 - m0, tail = rows % TK.Mr;
        int rowKernelRows = tail is 1 or 2 ? tail : 0;
        if (job->ASigned)
        {
            if (rows > rowKernelRows) Block<TK, Yes>(job, m0, m1 - rowKernelRows, p0, p1);
            for (int m = m1 - rowKernelRows; m < m1; m++) Rows<TK, TR, Yes>(job, m, p0, p1);
        }
        else
        {
            if (rows > rowKernelRows) Block<TK, No>(job, m0, m1 - rowKernelRows, p0, p1);
            for (int m = m1 - rowKernelRows; m < m1; m++) Rows<TK, TR, No>(job, m, p0, p1);
        }
    }

    /// <summary>
    /// As <see cref="BlockWithRowKernel{TK, TR}"/>, with the epilogue of full 16-column panels fused into the
    /// register tile (<see cref="IQGemmTileSink"/>) when the weights are symmetric; a last partial panel and
    /// asymmetric weights go through the stored tile and <see cref="QGemmEpilogue.Apply"/>.
    /// </summary>
    public static void FusedBlockWithRowKernel<TK, TR>(QGemmJob* job, int m0, int m1, int p0, int p1)
        where TK : struct, IQGemmFusedMicrokernel where TR : struct, IQGemmRowMicrokernel
    {
        if (job->WeightZeroPoints is not null)
        {
            BlockWithRowKernel<TK, TR>(job, m0, m1, p0, p1);
            return;
        }
        int rows = m1 - m0, tail = rows % TK.Mr;
        int rowKernelRows = tail is 1 or 2 ? tail : 0;
        if (rows > rowKernelRows)
        {
            int mEnd = m1 - rowKernelRows;
            switch (job->Kind)
            {
                case QGemmOutputKind.UInt8: QuantizedBlock<TK, No>(job, m0, mEnd, p0, p1); break;
                case QGemmOutputKind.Int8: QuantizedBlock<TK, Yes>(job, m0, mEnd, p0, p1); break;
                case QGemmOutputKind.Int32: FusedBlock<TK, Int32TileSink>(job, m0, mEnd, p0, p1); break;
                default: FusedBlock<TK, Float32TileSink>(job, m0, mEnd, p0, p1); break;
            }
        }
        for (int m = m1 - rowKernelRows; m < m1; m++)
        {
            if (job->ASigned) Rows<TK, TR, Yes>(job, m, p0, p1);
            else Rows<TK, TR, No>(job, m, p0, p1);
        }
    }

    // The u8/s8 sinks: TSigned picks the output type; the clamp is dropped when QGemmClampBound proved it cannot
    // bind; the 512-bit sink where AVX-512BW exists. One choice per block, then every tile runs the specialised sink.
    private static void QuantizedBlock<TK, TSigned>(QGemmJob* job, int m0, int m1, int p0, int p1)
        where TK : struct, IQGemmFusedMicrokernel where TSigned : struct, IFlag
    {
        if (job->ClampCannotBind) QuantizedBlock<TK, TSigned, Yes>(job, m0, m1, p0, p1);
        else QuantizedBlock<TK, TSigned, No>(job, m0, m1, p0, p1);
    }

    private static void QuantizedBlock<TK, TSigned, TUnclamped>(QGemmJob* job, int m0, int m1, int p0, int p1)
        where TK : struct, IQGemmFusedMicrokernel where TSigned : struct, IFlag where TUnclamped : struct, IFlag
    {
        if (QuantizedTileSinkAvx512<TSigned, TUnclamped>.IsSupported) FusedBlock<TK, QuantizedTileSinkAvx512<TSigned, TUnclamped>>(job, m0, m1, p0, p1);
        else FusedBlock<TK, QuantizedTileSink<TSigned, TUnclamped>>(job, m0, m1, p0, p1);
    }

    private static void FusedBlock<TK, TSink>(QGemmJob* job, int m0, int m1, int p0, int p1)
        where TK : struct, IQGemmFusedMicrokernel where TSink : struct, IQGemmTileSink
    {
        if (job->ASigned) FusedBlock<TK, Yes, TSink>(job, m0, m1, p0, p1);
        else FusedBlock<TK, No, TSink>(job, m0, m1, p0, p1);
    }

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FusedBlock<TK, TS, TSink>(QGemmJob* job, int m0, int m1, int p0, int p1)
        where TK : struct, IQGemmFusedMicrokernel where TS : struct, IFlag where TSink : struct, IQGemmTileSink
    {
        int mr = TK.Mr, nr = TK.Nr;
        int* acc = stackalloc int[6 * 64];
        int* colTerm = stackalloc int[64];
        QGemmTileOutput o = default, o1 = default;
        o.Acc = acc;
        int chunk = Math.Max(mr, ARowsBudgetBytes / Math.Max(1, job->K) / mr * mr);
        for (int mc = m0; mc < m1; mc += chunk)
        {
            int mcEnd = Math.Min(m1, mc + chunk);
            // The last 3 or 4 rows (all of them when M is 3 or 4) go two panels at a time through the pair tile.
            int pairRows = (mcEnd - mc) % mr;
            bool pairs = TK.HasTilePair && pairRows is 3 or 4;
            // Small depths: each full panel's weights stay in registers while all the chunk's rows pass.
            bool panelRows = TK.HasPanelRows(job->K);
            for (int p = p0; p < p1; p++)
            {
                byte* b = job->B + p * job->PanelBytes;
                int n0 = p * nr;
                int nc = Math.Min(nr, job->N - n0);
                QGemmEpilogue.ColumnTerms(job, n0, nc, colTerm);
                if (pairs && !panelRows && p + 1 < p1 && n0 + 2 * nr <= job->N)
                {
                    o.Prepare(job, colTerm, n0);
                    QGemmEpilogue.ColumnTerms(job, n0 + nr, nr, colTerm);
                    o1.Prepare(job, colTerm, n0 + nr);
                    byte* cp = job->C + QGemmTileOutput.ColumnOffset(job, n0);
                    byte* cq = job->C + QGemmTileOutput.ColumnOffset(job, n0 + nr);
                    int mPair = mcEnd - pairRows;
                    // Full-height tiles one panel after the other, so each panel stays in L1 while the rows pass.
                    for (int m = mc; m < mPair; m += mr)
                    {
                        o.C = cp + m * o.LdcBytes;
                        Tile<TK, TS, TSink>(job, m, mr, b, &o);
                    }
                    for (int m = mc; m < mPair; m += mr)
                    {
                        o1.C = cq + m * o.LdcBytes;
                        Tile<TK, TS, TSink>(job, m, mr, b + job->PanelBytes, &o1);
                    }
                    o.C = cp + mPair * o.LdcBytes;
                    o1.C = cq + mPair * o.LdcBytes;
                    byte* a = job->A + mPair * job->Lda;
                    if (pairRows == 4) TK.TilePair<Rows4, TS, TSink>(a, job->Lda, job->K, b, job->PanelBytes, &o, &o1);
                    else TK.TilePair<Rows3, TS, TSink>(a, job->Lda, job->K, b, job->PanelBytes, &o, &o1);
                    p++;
                    continue;
                }
                if (panelRows && nc == nr)
                {
                    o.Prepare(job, colTerm, n0);
                    o.C = job->C + QGemmTileOutput.ColumnOffset(job, n0) + mc * o.LdcBytes;
                    TK.PanelRows<TS, TSink>(job->A + mc * job->Lda, job->Lda, job->K, mcEnd - mc, b, &o);
                    continue;
                }
                if (nc < nr)
                {
                    for (int m = mc; m < mcEnd; m += mr)
                    {
                        int rows = Math.Min(mr, mcEnd - m);
                        Tile<TK, TS, RawTileSink<TileStride16>>(job, m, rows, b, &o);
                        QGemmEpilogue.Apply(job, acc, nr, colTerm, m, rows, n0, nc);
                    }
                    continue;
                }
                o.Prepare(job, colTerm, n0);
                byte* c0 = job->C + QGemmTileOutput.ColumnOffset(job, n0);
                for (int m = mc; m < mcEnd; m += mr)
                {
                    o.C = c0 + m * o.LdcBytes;
                    Tile<TK, TS, TSink>(job, m, Math.Min(mr, mcEnd - m), b, &o);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile<TK, TS, TSink>(QGemmJob* job, int m, int rows, byte* b, QGemmTileOutput* o)
        where TK : struct, IQGemmFusedMicrokernel where TS : struct, IFlag where TSink : struct, IQGemmTileSink
    {
        byte* a = job->A + m * job->Lda;
        switch (rows)
        {
            case 1: TK.Tile<Rows1, TS, TSink>(a, job->Lda, job->K, b, o); break;
            case 2: TK.Tile<Rows2, TS, TSink>(a, job->Lda, job->K, b, o); break;
            case 3: TK.Tile<Rows3, TS, TSink>(a, job->Lda, job->K, b, o); break;
            case 4: TK.Tile<Rows4, TS, TSink>(a, job->Lda, job->K, b, o); break;
            case 5: TK.Tile<Rows5, TS, TSink>(a, job->Lda, job->K, b, o); break;
            default: TK.Tile<Rows6, TS, TSink>(a, job->Lda, job->K, b, o); break;
        }
    }

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TK, TR, TS>(QGemmJob* job, int m, int p0, int p1)
        where TK : struct, IQGemmMicrokernel where TR : struct, IQGemmRowMicrokernel where TS : struct, IFlag
    {
        int nr = TK.Nr;
        int* acc = stackalloc int[4 * 16];
        byte* a = job->A + m * job->Lda;
        int* colTerm = stackalloc int[4 * 16];
        int p = p0;
        for (; p + 4 <= p1; p += 4)
            Row<TR, Rows4, TS>(job, a, m, p, nr, acc, colTerm);
        if (p + 2 <= p1)
        {
            Row<TR, Rows2, TS>(job, a, m, p, nr, acc, colTerm);
            p += 2;
        }
        if (p < p1) Row<TR, Rows1, TS>(job, a, m, p, nr, acc, colTerm);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row<TR, TP, TS>(QGemmJob* job, byte* a, int m, int p, int nr, int* acc, int* colTerm)
        where TR : struct, IQGemmRowMicrokernel where TP : struct, IRowCount where TS : struct, IFlag
    {
        int n0 = p * nr, nc = Math.Min(TP.Value * nr, job->N - n0);
        TR.Row<TP, TS>(a, job->K, job->B + p * job->PanelBytes, job->PanelBytes, acc);
        QGemmEpilogue.ColumnTerms(job, n0, nc, colTerm);
        QGemmEpilogue.Apply(job, acc, TP.Value * nr, colTerm, m, 1, n0, nc);
    }
}
