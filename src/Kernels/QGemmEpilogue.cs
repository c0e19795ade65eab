using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// Finishes a tile of raw dot products: zero-point corrections, bias, then the output kind's epilogue.
/// raw = sum (a + offset) * b, so acc = raw - zaEff * colsum[n] + bias[n] - zb[n] * (rowsum(a) - K * za),
/// which equals bias[n] + sum (a - za) * (b - zb) exactly (mod 2^32, like the reference).
/// </summary>
internal static unsafe class QGemmEpilogue
{
    /// <summary>
    /// What every row adds to columns [n0, n0 + nc): the bias and the activation zero-point correction
    /// (<c>bias[n] - zaEff * colsum[n]</c>). Computed once per panel, not per tile.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ColumnTerms(QGemmJob* job, int n0, int nc, int* colTerm)
    {
        int zaEff = job->AZeroPointEffective;
        int* colSums = job->ColumnSums + n0;
        int* bias = job->Bias is null ? null : job->Bias + n0;
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var za = Vector256.Create(zaEff);
            for (; j + 8 <= nc; j += 8)
                ((bias is null ? Vector256<int>.Zero : Vector256.Load(bias + j)) - za * Vector256.Load(colSums + j)).Store(colTerm + j);
        }
        for (; j < nc; j++) colTerm[j] = (bias is null ? 0 : bias[j]) - zaEff * colSums[j];
    }

    /// <summary>
    /// Finishes <paramref name="rows"/> rows of raw dot products (stride <paramref name="accStride"/>) for columns
    /// [n0, n0 + nc), given their <see cref="ColumnTerms"/>, into C.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Apply(QGemmJob* job, int* acc, int accStride, int* colTerm, int m0, int rows, int n0, int nc)
    {
        if (job->WeightZeroPoints is not null) SubtractWeightZeroPointTerms(job, acc, accStride, m0, rows, n0, nc);
        bool perColumnScale = job->ScaleCount > 1;
        float* scales = job->Scales is null ? null : job->Scales + (perColumnScale ? n0 : 0);
        nint ldc = job->Ldc;
        switch (job->Kind)
        {
            case QGemmOutputKind.Int32:
            {
                int* c = (int*)job->C + m0 * ldc + n0;
                for (int r = 0; r < rows; r++) Add(acc + r * accStride, colTerm, c + r * ldc, nc);
                break;
            }
            case QGemmOutputKind.Float32:
            {
                float* c = (float*)job->C + m0 * ldc + n0;
                for (int r = 0; r < rows; r++) Dequantize(acc + r * accStride, colTerm, scales, perColumnScale, c + r * ldc, nc);
                break;
            }
            default:
            {
                byte* c = job->C + m0 * ldc + n0;
                int zp = job->OutputZeroPoint, min = job->Min, max = job->Max;
                bool signed = job->Kind == QGemmOutputKind.Int8;
                for (int r = 0; r < rows; r++)
                    Requantize(acc + r * accStride, colTerm, scales, perColumnScale, zp, min, max, c + r * ldc, nc, signed);
                break;
            }
        }
    }

    /// <summary>Asymmetric weights: acc -= zb[n] * (rowsum(a) - K * za), per row.</summary>
    private static void SubtractWeightZeroPointTerms(QGemmJob* job, int* acc, int accStride, int m0, int rows, int n0, int nc)
    {
        bool perColumnZb = job->WeightZeroPointCount > 1;
        int* zb = job->WeightZeroPoints + (perColumnZb ? n0 : 0);
        for (int r = 0; r < rows; r++)
        {
            int* raw = acc + r * accStride;
            int rowTerm = RowTerm(job, m0 + r);
            for (int j = 0; j < nc; j++) raw[j] -= (perColumnZb ? zb[j] : *zb) * rowTerm;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add(int* raw, int* colTerm, int* c, int nc)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; j + 8 <= nc; j += 8) (Vector256.Load(raw + j) + Vector256.Load(colTerm + j)).Store(c + j);
        if (Vector128.IsHardwareAccelerated)
            for (; j + 4 <= nc; j += 4) (Vector128.Load(raw + j) + Vector128.Load(colTerm + j)).Store(c + j);
        for (; j < nc; j++) c[j] = raw[j] + colTerm[j];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dequantize(int* raw, int* colTerm, float* scales, bool perColumn, float* c, int nc)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(*scales);
            for (; j + 8 <= nc; j += 8)
                (Vector256.ConvertToSingle(Vector256.Load(raw + j) + Vector256.Load(colTerm + j)) * (perColumn ? Vector256.Load(scales + j) : s)).Store(c + j);
        }
        if (Vector128.IsHardwareAccelerated)
        {
            var s = Vector128.Create(*scales);
            for (; j + 4 <= nc; j += 4)
                (Vector128.ConvertToSingle(Vector128.Load(raw + j) + Vector128.Load(colTerm + j)) * (perColumn ? Vector128.Load(scales + j) : s)).Store(c + j);
        }
        for (; j < nc; j++) c[j] = Requantization.Dequantize(raw[j] + colTerm[j], perColumn ? scales[j] : *scales);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Requantize(int* raw, int* colTerm, float* scales, bool perColumn, int zp, int min, int max, byte* c, int nc, bool signed)
    {
        int j = 0;
        float lo = min - zp, hi = max - zp;
        if (Avx2.IsSupported)
        {
            var s = Vector256.Create(*scales);
            var vLo = Vector256.Create(lo);
            var vHi = Vector256.Create(hi);
            var vZp = Vector256.Create(zp);
            for (; j + 16 <= nc; j += 16)
            {
                var q0 = RequantizationAvx2.Requantize(Avx2.Add(Avx.LoadVector256(raw + j), Avx.LoadVector256(colTerm + j)),
                    perColumn ? Avx.LoadVector256(scales + j) : s, vLo, vHi, vZp);
                var q1 = RequantizationAvx2.Requantize(Avx2.Add(Avx.LoadVector256(raw + j + 8), Avx.LoadVector256(colTerm + j + 8)),
                    perColumn ? Avx.LoadVector256(scales + j + 8) : s, vLo, vHi, vZp);
                if (signed) RequantizationAvx2.Store16((sbyte*)c + j, q0, q1);
                else RequantizationAvx2.Store16(c + j, q0, q1);
            }
            if (j + 8 <= nc)
            {
                var q = RequantizationAvx2.Requantize(Avx2.Add(Avx.LoadVector256(raw + j), Avx.LoadVector256(colTerm + j)),
                    perColumn ? Avx.LoadVector256(scales + j) : s, vLo, vHi, vZp);
                RequantizationAvx2.Store8(c + j, q, signed);
                j += 8;
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var s = Vector128.Create(*scales);
            var vLo = Vector128.Create(lo);
            var vHi = Vector128.Create(hi);
            var vZp = Vector128.Create(zp);
            for (; j + 8 <= nc; j += 8)
            {
                var f0 = Vector128.ConvertToSingle(Vector128.Load(raw + j) + Vector128.Load(colTerm + j)) * (perColumn ? Vector128.Load(scales + j) : s);
                var f1 = Vector128.ConvertToSingle(Vector128.Load(raw + j + 4) + Vector128.Load(colTerm + j + 4)) * (perColumn ? Vector128.Load(scales + j + 4) : s);
                var q0 = Vector128.ConvertToInt32(Vector128.Round(Vector128.MinNative(Vector128.MaxNative(f0, vLo), vHi))) + vZp;
                var q1 = Vector128.ConvertToInt32(Vector128.Round(Vector128.MinNative(Vector128.MaxNative(f1, vLo), vHi))) + vZp;
                var shorts = Vector128.Narrow(q0.AsUInt32(), q1.AsUInt32());
                Unsafe.WriteUnaligned(c + j, Vector128.Narrow(shorts, shorts).AsUInt64().ToScalar());
            }
        }
        for (; j < nc; j++)
            c[j] = (byte)Requantization.Requantize(raw[j] + colTerm[j], perColumn ? scales[j] : *scales, lo, hi, zp);
    }

    /// <summary>rowsum(a) - K * za for one row; only needed when the weights have a zero point.</summary>
    private static int RowTerm(QGemmJob* job, int m)
    {
        byte* a = job->A + m * job->Lda;
        int sum = 0;
        if (job->ASigned) for (int k = 0; k < job->K; k++) sum += (sbyte)a[k];
        else for (int k = 0; k < job->K; k++) sum += a[k];
        return sum - job->K * job->AZeroPoint;
    }
}
