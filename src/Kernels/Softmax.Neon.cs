using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeAgent.Kernels;

/// <summary>
/// Softmax and log-softmax of one row for NEON: 16 elements per step in four Q-register lane sums (the
/// canonical 16-lane order), the exponential of <see cref="FloatMathNeon.Exp"/>, and the scalar arithmetic
/// for the tail.
/// </summary>
internal static unsafe class SoftmaxNeon
{
    public static void Row(ReadOnlySpan<float> xs, Span<float> ys, bool log)
    {
        int n = xs.Length, full = n & ~15;
        fixed (float* x = xs)
        fixed (float* y = ys)
        {
            float max = Max(x, n);
            Vector128<float> vmax = Vector128.Create(max);
            Vector128<float> s0 = Vector128<float>.Zero, s1 = s0, s2 = s0, s3 = s0;
            for (int i = 0; i < full; i += 16)
            {
                Vector128<float> e0 = FloatMathNeon.Exp(AdvSimd.Subtract(AdvSimd.LoadVector128(x + i), vmax));
                Vector128<float> e1 = FloatMathNeon.Exp(AdvSimd.Subtract(AdvSimd.LoadVector128(x + i + 4), vmax));
                Vector128<float> e2 = FloatMathNeon.Exp(AdvSimd.Subtract(AdvSimd.LoadVector128(x + i + 8), vmax));
                Vector128<float> e3 = FloatMathNeon.Exp(AdvSimd.Subtract(AdvSimd.LoadVector128(x + i + 12), vmax));
                if (!log)
                {
                    AdvSimd.Store(y + i, e0);
                    AdvSimd.Store(y + i + 4, e1);
                    AdvSimd.Store(y + i + 8, e2);
                    AdvSimd.Store(y + i + 12, e3);
                }
                s0 = AdvSimd.Add(s0, e0);
                s1 = AdvSimd.Add(s1, e1);
                s2 = AdvSimd.Add(s2, e2);
                s3 = AdvSimd.Add(s3, e3);
            }
            float sum = FloatMathNeon.FoldLanes(s0, s1, s2, s3);
            for (int i = full; i < n; i++)
            {
                float e = FloatMath.Exp(x[i] - max);
                if (!log) y[i] = e;
                sum += e;
            }
            int done = n & ~3;
            if (log)
            {
                Vector128<float> vlse = Vector128.Create(MathF.Log(sum));
                for (int i = 0; i < done; i += 4)
                    AdvSimd.Store(y + i, AdvSimd.Subtract(AdvSimd.Subtract(AdvSimd.LoadVector128(x + i), vmax), vlse));
            }
            else
            {
                Vector128<float> vsum = Vector128.Create(sum);
                for (int i = 0; i < done; i += 4)
                    AdvSimd.Store(y + i, AdvSimd.Arm64.Divide(AdvSimd.LoadVector128(y + i), vsum));
            }
            SoftmaxScalar.Finish(xs, ys, log, max, sum, done);
        }
    }

    internal static float Max(float* x, int n)
    {
        int i = 0;
        float max = x[0];
        if (n >= 4)
        {
            Vector128<float> m = AdvSimd.LoadVector128(x);
            for (i = 4; i + 4 <= n; i += 4) m = AdvSimd.Max(m, AdvSimd.LoadVector128(x + i));
            max = AdvSimd.Arm64.MaxAcross(m).ToScalar();
        }
        for (; i < n; i++) max = FloatMath.Max(max, x[i]);
        return max;
    }
}
