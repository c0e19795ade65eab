using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// Float reductions for AVX2: rows (inner = 1) in two YMM lane sums following the canonical 16-lane order;
/// strided axes (inner &gt; 1) eight output elements at a time, each lane a sequential sum over the axis.
/// </summary>
internal static unsafe class ReduceAvx2
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
                    *dst = kind == ReduceKind.Max ? SoftmaxAvx2.Max(block, axis) : RowSum(block, axis);
                    if (kind == ReduceKind.Mean) *dst /= axis;
                    continue;
                }
                int j = 0;
                Vector256<float> vaxis = Vector256.Create((float)axis);
                for (; j + 8 <= inner; j += 8)
                {
                    Vector256<float> acc = Avx.LoadVector256(block + j);
                    for (int a = 1; a < axis; a++)
                    {
                        Vector256<float> v = Avx.LoadVector256(block + (nint)a * inner + j);
                        acc = kind == ReduceKind.Max ? Avx.Max(acc, v) : Avx.Add(acc, v);
                    }
                    if (kind == ReduceKind.Mean) acc = Avx.Divide(acc, vaxis);
                    Avx.Store(dst + j, acc);
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
        Vector256<float> s0 = Vector256<float>.Zero, s1 = Vector256<float>.Zero;
        for (int i = 0; i < full; i += 16)
        {
            s0 = Avx.Add(s0, Avx.LoadVector256(x + i));
            s1 = Avx.Add(s1, Avx.LoadVector256(x + i + 8));
        }
        float sum = FloatMathAvx2.FoldLanes(s0, s1);
        for (int i = full; i < n; i++) sum += x[i];
        return sum;
    }
}
