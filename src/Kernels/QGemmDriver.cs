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
