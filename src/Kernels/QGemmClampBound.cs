using System.Runtime.Intrinsics;

namespace EdgeAgent.Kernels;

/// <summary>
/// Decides once per QGEMM call whether the requantization clamp can bind anywhere beyond what the saturating
/// packs already do, so the register sinks may drop the float minimum (one VMINPS per row) and the byte maximum.
/// That holds when the clamp is the element type's whole range (no fused activation bound, or a ReLU whose zero
/// point is the type's minimum) and no <c>(float)acc * scale[n]</c> can reach 2^31, where VCVTPS2DQ would turn
/// a large positive value into int32.MinValue. The depthwise epilogue makes the same argument per call.
/// </summary>
internal static unsafe class QGemmClampBound
{
    // Half of 2^31: the bound below is computed in float, and each of its three roundings is far under 2x.
    private const float Limit = 1 << 30;

    /// <summary>
    /// True when the output is u8/s8 with symmetric weights, <c>[Min, Max]</c> covers the element type, and for
    /// every column <c>(|bias[n]| + K * 255 * 128) * |scale[n]| &lt; 2^30</c>. The true accumulator is
    /// <c>bias + sum (a - za) * b</c> with <c>|a - za| &lt;= 255</c> and <c>|b| &lt;= 128</c>; when that bound
    /// passes 2^31 the int32 accumulator may wrap, but then <c>|scale| &lt; 1/2</c> and any int32 times it stays
    /// below 2^30 too.
    /// </summary>
    public static bool CannotBind(QGemmJob* job)
    {
        bool signed;
        if (job->Kind == QGemmOutputKind.UInt8) signed = false;
        else if (job->Kind == QGemmOutputKind.Int8) signed = true;
        else return false;
        // Only the x86 register sinks use the answer.
        if (job->WeightZeroPoints is not null || job->Scales is null || !Vector256.IsHardwareAccelerated) return false;
        if (job->Min > (signed ? sbyte.MinValue : byte.MinValue) || job->Max < (signed ? sbyte.MaxValue : byte.MaxValue)) return false;

        var products = Vector256.Create(job->K * 255f * 128f);
        var limit = Vector256.Create(Limit);
        int n = job->N;
        bool perColumn = job->ScaleCount > 1;
        var scale = Vector256.Abs(Vector256.Create(*job->Scales));
        int c = 0;
        for (; c + 8 <= n; c += 8)
        {
            var bias = job->Bias is null ? Vector256<float>.Zero : Vector256.Abs(Vector256.ConvertToSingle(Vector256.Load(job->Bias + c)));
            if (perColumn) scale = Vector256.Abs(Vector256.Load(job->Scales + c));
            // LessThanAll is false for a NaN scale as well.
            if (!Vector256.LessThanAll((bias + products) * scale, limit)) return false;
        }
        for (; c < n; c++)
        {
            float bias = job->Bias is null ? 0f : MathF.Abs((float)job->Bias[c]);
            float s = MathF.Abs(perColumn ? job->Scales[c] : *job->Scales);
            if (!((bias + products.GetElement(0)) * s < Limit)) return false;
        }
        return true;
    }
}
