namespace EdgeAgent.Kernels;

/// <summary>
/// Portable path: 4 rows x 8 columns, k in groups of 4 (the same c4 layout as the dot-product paths), plain
/// loops. Runs anywhere; the fast paths are tested against <see cref="QGemmReference"/>, as this one is.
/// </summary>
internal unsafe struct QGemm4x8Scalar : IQGemmMicrokernel
{
    public static int Mr => 4;
    public static int Nr => 8;

    public static void Tile<TRows, TSigned>(byte* a, nint lda, int k, byte* b, int* acc)
        where TRows : struct, IRowCount where TSigned : struct, IFlag
    {
        for (int r = 0; r < TRows.Value; r++)
        {
            byte* row = a + r * lda;
            for (int j = 0; j < 8; j++)
            {
                int sum = 0;
                for (int kk = 0; kk < k; kk++)
                {
                    int av = TSigned.Value ? (sbyte)row[kk] : row[kk];
                    sum += av * (sbyte)b[(kk >> 2) * 32 + j * 4 + (kk & 3)];
                }
                acc[r * 8 + j] = sum;
            }
        }
    }
}
