using System.Runtime.CompilerServices;

namespace EdgeAgent.Kernels;

/// <summary>
/// Walks a block of the output tile by tile for one microkernel: panels outside (a panel of B stays in L1
/// while every row tile of the block passes over it), row tiles inside, epilogue after each tile.
/// </summary>
internal static unsafe class QGemmDriver
{
    public static void Block<TK>(QGemmJob* job, int m0, int m1, int p0, int p1) where TK : struct, IQGemmMicrokernel
    {
        if (job->ASigned) Block<TK, Yes>(job, m0, m1, p0, p1);
        else Block<TK, No>(job, m0, m1, p0, p1);
    }

    [SkipLocalsInit]
    private static void Block<TK, TS>(QGemmJob* job, int m0, int m1, int p0, int p1)
        where TK : struct, IQGemmMicrokernel where TS : struct, IFlag
    {
        int mr = TK.Mr, nr = TK.Nr;
        int* acc = stackalloc int[6 * 64];
        for (int p = p0; p < p1; p++)
        {
            byte* b = job->B + p * job->PanelBytes;
            int n0 = p * nr;
            int nc = Math.Min(nr, job->N - n0);
            for (int m = m0; m < m1; m += mr)
            {
                int rows = Math.Min(mr, m1 - m);
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
                QGemmEpilogue.Apply(job, acc, nr, m, rows, n0, nc);
            }
        }
    }
}
