namespace EdgeAgent.Kernels;

/// <summary>
/// Softmax and log-softmax of one row, portable C#: the specification of the vector paths.
/// <c>m = max(x)</c>; <c>e_i = exp(x_i - m)</c> with <see cref="FloatMath.Exp"/>; <c>s</c> = the canonical
/// 16-lane sum of the e_i (<see cref="FloatMath.Sum"/>); softmax <c>y_i = e_i / s</c>, log-softmax
/// <c>y_i = (x_i - m) - log(s)</c>. Elements in full 16-blocks and the tail are treated exactly as the
/// vector paths treat them.
/// </summary>
internal static class SoftmaxScalar
{
    public static void Row(ReadOnlySpan<float> x, Span<float> y, bool log)
    {
        int n = x.Length;
        float max = x[0];
        for (int i = 1; i < n; i++) max = FloatMath.Max(max, x[i]);
        Span<float> lanes = stackalloc float[16];
        lanes.Clear();
        int full = n & ~15;
        for (int i = 0; i < full; i += 16)
        {
            for (int l = 0; l < 16; l++)
            {
                float e = FloatMath.Exp(x[i + l] - max);
                if (!log) y[i + l] = e;
                lanes[l] += e;
            }
        }
        float sum = FloatMath.FoldLanes(lanes);
        for (int i = full; i < n; i++)
        {
            float e = FloatMath.Exp(x[i] - max);
            if (!log) y[i] = e;
            sum += e;
        }
        Finish(x, y, log, max, sum, 0);
    }

    /// <summary>The last pass, from element <paramref name="start"/> on (the vector paths use it for their tails).</summary>
    public static void Finish(ReadOnlySpan<float> x, Span<float> y, bool log, float max, float sum, int start)
    {
        if (log)
        {
            float lse = MathF.Log(sum);
            for (int i = start; i < x.Length; i++) y[i] = (x[i] - max) - lse;
        }
        else
        {
            for (int i = start; i < y.Length; i++) y[i] = y[i] / sum;
        }
    }
}
