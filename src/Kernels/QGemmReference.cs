namespace EdgeAgent.Kernels;

/// <summary>
/// The readable specification of QGEMM, on unpacked weights. Every packed path (including the table's
/// scalar one) is tested against it bit for bit:
/// <c>acc[m, n] = bias[n] + sum_k (A[m, k] - za) * (B[k, n] - zb[n])</c> in wrapping int32 arithmetic,
/// then the epilogue of <see cref="QGemmOutput"/> (<see cref="Requantization"/>).
/// </summary>
public static class QGemmReference
{
    /// <summary>
    /// C = epilogue(A x B) with B given K x N row-major (element (k, n) at <c>b[k * n + n]</c>).
    /// <paramref name="weightZeroPoints"/> is empty (0), one value, or N values.
    /// </summary>
    public static void Run(in QGemmInput a, ReadOnlySpan<sbyte> b, int k, int n, in QGemmOutput c,
        ReadOnlySpan<int> bias = default, ReadOnlySpan<int> weightZeroPoints = default)
    {
        var outInt = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(c.Data);
        var outFloat = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(c.Data);
        for (int row = 0; row < a.Rows; row++)
        {
            for (int col = 0; col < n; col++)
            {
                int zb = weightZeroPoints.Length == 0 ? 0 : weightZeroPoints[weightZeroPoints.Length == 1 ? 0 : col];
                int acc = bias.Length == 0 ? 0 : bias[col];
                for (int kk = 0; kk < k; kk++)
                {
                    byte raw = a.Data[row * a.Stride + kk];
                    int av = a.IsSigned ? (sbyte)raw : raw;
                    acc = unchecked(acc + (av - a.ZeroPoint) * (b[kk * n + col] - zb));
                }
                int at = row * c.Stride + col;
                float scale = c.Scales.Length == 0 ? 0f : c.Scales[c.Scales.Length == 1 ? 0 : col];
                switch (c.Kind)
                {
                    case QGemmOutputKind.Int32: outInt[at] = acc; break;
                    case QGemmOutputKind.Float32: outFloat[at] = Requantization.Dequantize(acc, scale); break;
                    default: c.Data[at] = (byte)Requantization.Requantize(acc, scale, c.ZeroPoint, c.Min, c.Max); break;
                }
            }
        }
    }
}
