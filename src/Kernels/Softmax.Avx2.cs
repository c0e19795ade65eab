using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// Softmax and log-softmax of one row for AVX2/FMA: 16 elements per step in two YMM lane sums (the canonical
/// 16-lane order), the exponential of <see cref="FloatMathAvx2.Exp"/>, and the scalar arithmetic for the tail.
/// </summary>
internal static unsafe class SoftmaxAvx2
{
    public static void Row(ReadOnlySpan<float> xs, Span<float> ys, bool log)
    {
        int n = xs.Length, full = n & ~15;
        fixed (float* x = xs)
        fixed (float* y = ys)
        {
            float max = Max(x, n);
            Vector256<float> vmax = Vector256.Create(max);
            Vector256<float> s0 = Vector256<float>.Zero, s1 = Vector256<float>.Zero;
            for (int i = 0; i < full; i += 16)
            {
                Vector256<float> e0 = FloatMathAvx2.Exp(Avx.Subtract(Avx.LoadVector256(x + i), vmax));
                Vector256<float> e1 = FloatMathAvx2.Exp(Avx.Subtract(Avx.LoadVector256(x + i + 8), vmax));
                if (!log)
                {
                    Avx.Store(y + i, e0);
                    Avx.Store(y + i + 8, e1);
                }
                s0 = Avx.Add(s0, e0);
                s1 = Avx.Add(s1, e1);
            }
            float sum = FloatMathAvx2.FoldLanes(s0, s1);
            for (int i = full; i < n; i++)
            {
                float e = FloatMath.Exp(x[i] - max);
                if (!log) y[i] = e;
                sum += e;
            }
            int done = n & ~7;
            if (log)
            {
                float lse = MathF.Log(sum);
                Vector256<float> vlse = Vector256.Create(lse);
                for (int i = 0; i < done; i += 8)
                    Avx.Store(y + i, Avx.Subtract(Avx.Subtract(Avx.LoadVector256(x + i), vmax), vlse));
            }
            else
            {
                Vector256<float> vsum = Vector256.Create(sum);
                for (int i = 0; i < done; i += 8)
                    Avx.Store(y + i, Avx.Divide(Avx.LoadVector256(y + i), vsum));
            }
            SoftmaxScalar.Finish(xs, ys, log, max, sum, done);
        }
    }

    internal static float Max(float* x, int n)
    {
        int i = 0;
        float max = x[0];
        if (n >= 8)
        {
            Vector256<float> m = Avx.LoadVector256(x);
            for (i = 8; i + 8 <= n; i += 8) m = Avx.Max(m, Avx.LoadVector256(x + i));
            Vector128<float> h = Sse.Max(m.GetLower(), m.GetUpper());
            h = Sse.Max(h, Sse.MoveHighToLow(h, h));
            max = FloatMath.Max(h.ToScalar(), h.GetElement(1));
        }
        for (; i < n; i++) max = FloatMath.Max(max, x[i]);
        return max;
    }
}
