using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeAgent.Kernels;

/// <summary>
/// Float reductions for NEON: rows (inner = 1) in four Q-register lane sums following the canonical 16-lane
/// order; strided axes (inner &gt; 1) four output elements at a time, each lane a sequential sum over the axis.
/// Max uses compare + select to keep MAXPS semantics.
/// </summary>
internal static unsafe class ReduceNeon
{
    public static void Run(ReduceKind kind, ReadOnlySpan<float> xs, Span<float> ys, int axis, int inner, int outerStart, int outerEnd)
    {
        fixed (float* x = xs)
        fixed (float* y = ys)
        {
            for (int o = outerStart; o < outerEnd; o++)
            {
                float* block = x + (nint)o * axis * inner;
                float* dst = y + (nint)o * inner;
                if (inner == 1)
                {
                    *dst = kind == ReduceKind.Max ? SoftmaxNeon.Max(block, axis) : RowSum(block, axis);
                    if (kind == ReduceKind.Mean) *dst /= axis;
                    continue;
                }
                int j = 0;
                Vector128<float> vaxis = Vector128.Create((float)axis);
                for (; j + 4 <= inner; j += 4)
                {
                    Vector128<float> acc = AdvSimd.LoadVector128(block + j);
                    for (int a = 1; a < axis; a++)
                    {
                        Vector128<float> v = AdvSimd.LoadVector128(block + (nint)a * inner + j);
                        acc = kind == ReduceKind.Max ? AdvSimd.BitwiseSelect(AdvSimd.CompareGreaterThan(acc, v), acc, v) : AdvSimd.Add(acc, v);
                    }
                    if (kind == ReduceKind.Mean) acc = AdvSimd.Arm64.Divide(acc, vaxis);
                    AdvSimd.Store(dst + j, acc);
                }
                for (; j < inner; j++)
                {
                    float acc = block[j];
                    for (int a = 1; a < axis; a++)
                    {
                        float v = block[(nint)a * inner + j];
                        acc = kind == ReduceKind.Max ? FloatMath.Max(acc, v) : acc + v;
                    }
                    dst[j] = kind == ReduceKind.Mean ? acc / axis : acc;
                }
            }
        }
    }

    internal static float RowSum(float* x, int n)
    {
        int full = n & ~15;
        Vector128<float> s0 = Vector128<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
        for (int i = 0; i < full; i += 16)
        {
            s0 = AdvSimd.Add(s0, AdvSimd.LoadVector128(x + i));
            s1 = AdvSimd.Add(s1, AdvSimd.LoadVector128(x + i + 4));
            s2 = AdvSimd.Add(s2, AdvSimd.LoadVector128(x + i + 8));
            s3 = AdvSimd.Add(s3, AdvSimd.LoadVector128(x + i + 12));
        }
        float sum = FloatMathNeon.FoldLanes(s0, s1, s2, s3);
        for (int i = full; i < n; i++) sum += x[i];
        return sum;
    }
}
