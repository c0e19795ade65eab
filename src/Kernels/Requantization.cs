using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace EdgeAgent.Kernels;

/// <summary>
/// The one requantization rule every path shares, so every path produces the same bits:
/// <c>out = clamp(RNE((float)acc * scale) + zeroPoint, min, max)</c>, computed as
/// <c>clamp(RNE((float)acc * scale), min - zeroPoint, max - zeroPoint) + zeroPoint</c> (the same integers:
/// the bounds are exact in float). int to float rounds to nearest even, the product is one IEEE multiply
/// (never fused with anything), and rounding to an integer is nearest-even, as ONNX specifies.
/// </summary>
public static class Requantization
{
    /// <summary>Requantizes one accumulator; the scalar definition the vector epilogues must match.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Requantize(int acc, float scale, int zeroPoint, int min, int max)
    {
        float rounded = MathF.Round((float)acc * scale, MidpointRounding.ToEven);
        float clamped = Math.Min(Math.Max(rounded, (float)(min - zeroPoint)), (float)(max - zeroPoint));
        return (int)clamped + zeroPoint;
    }

    /// <summary>Dequantizes one accumulator.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dequantize(int acc, float scale) => (float)acc * scale;
}

/// <summary>
/// Finishes a tile of raw dot products: zero-point corrections, bias, then the output kind's epilogue.
/// raw = sum (a + offset) * b, so acc = raw - zaEff * colsum[n] + bias[n] - zb[n] * (rowsum(a) - K * za),
/// which equals bias[n] + sum (a - za) * (b - zb) exactly (mod 2^32, like the reference).
/// </summary>
internal static unsafe class QGemmEpilogue
{
    [SkipLocalsInit]
    public static void Apply(QGemmJob* job, int* acc, int accStride, int m0, int rows, int n0, int nc)
    {
        int zaEff = job->AZeroPointEffective;
        int elementSize = job->Kind is QGemmOutputKind.UInt8 or QGemmOutputKind.Int8 ? 1 : 4;
        int* colSums = job->ColumnSums + n0;
        int* bias = job->Bias is null ? null : job->Bias + n0;
        bool perColumnZb = job->WeightZeroPointCount > 1;
        int* zb = job->WeightZeroPoints is null ? null : job->WeightZeroPoints + (perColumnZb ? n0 : 0);
        bool perColumnScale = job->ScaleCount > 1;
        float* scales = job->Scales is null ? null : job->Scales + (perColumnScale ? n0 : 0);

        // What every row of the tile adds: the bias and the activation zero-point correction.
        int* colTerm = stackalloc int[nc];
        for (int j = 0; j < nc; j++) colTerm[j] = (bias is null ? 0 : bias[j]) - zaEff * colSums[j];

        for (int r = 0; r < rows; r++)
        {
            int* raw = acc + r * accStride;
            if (zb is not null)
            {
                int rowTerm = RowTerm(job, m0 + r);
                for (int j = 0; j < nc; j++) raw[j] -= (perColumnZb ? zb[j] : *zb) * rowTerm;
            }
            byte* c = job->C + ((m0 + r) * job->Ldc + n0) * elementSize;
            switch (job->Kind)
            {
                case QGemmOutputKind.Int32: Add(raw, colTerm, (int*)c, nc); break;
                case QGemmOutputKind.Float32: Dequantize(raw, colTerm, scales, perColumnScale, (float*)c, nc); break;
                default: Requantize(raw, colTerm, scales, perColumnScale, job->OutputZeroPoint, job->Min, job->Max, c, nc); break;
            }
        }
    }

    private static void Add(int* raw, int* colTerm, int* c, int nc)
    {
        int j = 0;
        if (Vector128.IsHardwareAccelerated)
            for (; j + 4 <= nc; j += 4) (Vector128.Load(raw + j) + Vector128.Load(colTerm + j)).Store(c + j);
        for (; j < nc; j++) c[j] = raw[j] + colTerm[j];
    }

    private static void Dequantize(int* raw, int* colTerm, float* scales, bool perColumn, float* c, int nc)
    {
        int j = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var s = Vector128.Create(*scales);
            for (; j + 4 <= nc; j += 4)
                (Vector128.ConvertToSingle(Vector128.Load(raw + j) + Vector128.Load(colTerm + j)) * (perColumn ? Vector128.Load(scales + j) : s)).Store(c + j);
        }
        for (; j < nc; j++) c[j] = Requantization.Dequantize(raw[j] + colTerm[j], perColumn ? scales[j] : *scales);
    }

    private static void Requantize(int* raw, int* colTerm, float* scales, bool perColumn, int zp, int min, int max, byte* c, int nc)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var s = Vector256.Create(*scales);
            var lo = Vector256.Create((float)(min - zp));
            var hi = Vector256.Create((float)(max - zp));
            var vZp = Vector256.Create(zp);
            for (; j + 8 <= nc; j += 8)
            {
                var f = Vector256.ConvertToSingle(Vector256.Load(raw + j) + Vector256.Load(colTerm + j)) * (perColumn ? Vector256.Load(scales + j) : s);
                var q = Vector256.ConvertToInt32(Vector256.MinNative(Vector256.MaxNative(Vector256.Round(f), lo), hi)) + vZp;
                var shorts = Vector128.Narrow(q.GetLower().AsUInt32(), q.GetUpper().AsUInt32());
                Unsafe.WriteUnaligned(c + j, Vector128.Narrow(shorts, shorts).AsUInt64().ToScalar());
            }
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var s = Vector128.Create(*scales);
            var lo = Vector128.Create((float)(min - zp));
            var hi = Vector128.Create((float)(max - zp));
            var vZp = Vector128.Create(zp);
            for (; j + 8 <= nc; j += 8)
            {
                var f0 = Vector128.ConvertToSingle(Vector128.Load(raw + j) + Vector128.Load(colTerm + j)) * (perColumn ? Vector128.Load(scales + j) : s);
                var f1 = Vector128.ConvertToSingle(Vector128.Load(raw + j + 4) + Vector128.Load(colTerm + j + 4)) * (perColumn ? Vector128.Load(scales + j + 4) : s);
                var q0 = Vector128.ConvertToInt32(Vector128.MinNative(Vector128.MaxNative(Vector128.Round(f0), lo), hi)) + vZp;
                var q1 = Vector128.ConvertToInt32(Vector128.MinNative(Vector128.MaxNative(Vector128.Round(f1), lo), hi)) + vZp;
                var shorts = Vector128.Narrow(q0.AsUInt32(), q1.AsUInt32());
                Unsafe.WriteUnaligned(c + j, Vector128.Narrow(shorts, shorts).AsUInt64().ToScalar());
            }
        }
        for (; j < nc; j++)
            c[j] = (byte)Requantization.Requantize(raw[j] + colTerm[j], perColumn ? scales[j] : *scales, zp, min, max);
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
