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

        for (int r = 0; r < rows; r++)
        {
            int rowTerm = zb is null ? 0 : RowTerm(job, m0 + r);
            int* raw = acc + r * accStride;
            byte* c = job->C + ((m0 + r) * job->Ldc + n0) * elementSize;
            int j = 0;
            if (Vector128.IsHardwareAccelerated)
            {
                var vZa = Vector128.Create(zaEff);
                var vRow = Vector128.Create(rowTerm);
                for (; j + 4 <= nc; j += 4)
                {
                    var v = Vector128.Load(raw + j) - vZa * Vector128.Load(colSums + j);
                    if (bias is not null) v += Vector128.Load(bias + j);
                    if (zb is not null) v -= (perColumnZb ? Vector128.Load(zb + j) : Vector128.Create(*zb)) * vRow;
                    Store4(job, v, scales, perColumnScale, j, c);
                }
            }
            for (; j < nc; j++)
            {
                int v = raw[j] - zaEff * colSums[j];
                if (bias is not null) v += bias[j];
                if (zb is not null) v -= (perColumnZb ? zb[j] : *zb) * rowTerm;
                Store1(job, v, scales, perColumnScale, j, c);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(QGemmJob* job, Vector128<int> v, float* scales, bool perColumn, int j, byte* c)
    {
        switch (job->Kind)
        {
            case QGemmOutputKind.Int32:
                v.Store((int*)c + j);
                return;
            case QGemmOutputKind.Float32:
                (Vector128.ConvertToSingle(v) * Scale4(scales, perColumn, j)).Store((float*)c + j);
                return;
            default:
                var rounded = Vector128.Round(Vector128.ConvertToSingle(v) * Scale4(scales, perColumn, j));
                var lo = Vector128.Create((float)(job->Min - job->OutputZeroPoint));
                var hi = Vector128.Create((float)(job->Max - job->OutputZeroPoint));
                var q = Vector128.ConvertToInt32(Vector128.MinNative(Vector128.MaxNative(rounded, lo), hi)) + Vector128.Create(job->OutputZeroPoint);
                var shorts = Vector128.Narrow(q.AsUInt32(), q.AsUInt32());
                var bytes = Vector128.Narrow(shorts, shorts);
                Unsafe.WriteUnaligned(c + j, bytes.AsUInt32().ToScalar());
                return;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Scale4(float* scales, bool perColumn, int j) =>
        perColumn ? Vector128.Load(scales + j) : Vector128.Create(*scales);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store1(QGemmJob* job, int v, float* scales, bool perColumn, int j, byte* c)
    {
        switch (job->Kind)
        {
            case QGemmOutputKind.Int32:
                ((int*)c)[j] = v;
                return;
            case QGemmOutputKind.Float32:
                ((float*)c)[j] = Requantization.Dequantize(v, perColumn ? scales[j] : *scales);
                return;
            default:
                c[j] = (byte)Requantization.Requantize(v, perColumn ? scales[j] : *scales, job->OutputZeroPoint, job->Min, job->Max);
                return;
        }
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
