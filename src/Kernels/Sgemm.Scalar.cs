namespace EdgeAgent.Kernels;

/// <summary>
/// SGEMM tile in portable C#: the specification of every float product path. Each output element is one
/// chain, <c>acc = init; for k = 0..K-1: acc = fma(A[i,k], B[k,j], acc)</c> (init = bias[j], 0, or the old
/// C[i,j] when accumulating), then the fused clamp. The vector tiles compute the same chain per lane, so they
/// agree bit for bit whatever the tile shape.
/// </summary>
internal static unsafe class SgemmScalar
{
    public static void Tile(in SgemmTileArgs t)
    {
        for (int r = 0; r < t.Rows; r++)
        {
            float* a = t.A + r * t.ARowStride;
            float* c = t.C + r * t.Ldc;
            for (int j = 0; j < SgemmPacking.PanelWidth; j++)
            {
                float acc = t.InitFromC ? c[j] : t.Bias != null ? t.Bias[j] : 0f;
                float* b = t.Panel + j;
                for (int kk = 0; kk < t.K; kk++)
                    acc = MathF.FusedMultiplyAdd(a[kk * t.AKStride], b[kk * SgemmPacking.PanelWidth], acc);
                c[j] = t.Clamp ? FloatMath.Clamp(acc, t.Lo, t.Hi) : acc;
            }
        }
    }
}
