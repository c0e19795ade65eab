namespace EdgeAgent.Compression.Quantization;

/// <summary>
/// What calibration learns about one tensor: its range, then a histogram of |x| over [0, max|x|] from
/// which the clipping threshold of the chosen <see cref="CalibrationMethod"/> is computed.
/// </summary>
public sealed class ActivationStatistics
{
    public const int Bins = 2048;
    private readonly long[] _histogram = new long[Bins];
    private long _count;

    public float Min { get; private set; } = float.PositiveInfinity;
    public float Max { get; private set; } = float.NegativeInfinity;
    public float AbsMax => MathF.Max(MathF.Abs(Min), MathF.Abs(Max));
    public bool HasRange => Min <= Max;

    public void ObserveRange(ReadOnlySpan<float> values)
    {
        float min = Min, max = Max;
        foreach (var v in values)
        {
            if (!float.IsFinite(v)) continue;
            if (v < min) min = v;
            if (v > max) max = v;
        }
        Min = min;
        Max = max;
    }

    public void ObserveHistogram(ReadOnlySpan<float> values)
    {
        float absMax = AbsMax;
        if (!(absMax > 0)) return;
        float perBin = Bins / absMax;
        foreach (var v in values)
        {
            // Exact zeros (ReLU's dead half, zero padding) are exact at every scale, so they neither cost
            // rounding error nor should their spike in bin 0 steer the clipping threshold.
            if (!float.IsFinite(v) || v == 0f) continue;
            int bin = (int)(MathF.Abs(v) * perBin);
            _histogram[Math.Min(bin, Bins - 1)]++;
            _count++;
        }
    }

    /// <summary>The real range to quantize for <paramref name="method"/>, always containing 0.</summary>
    public (float Min, float Max) Range(CalibrationMethod method, QuantizedType type)
    {
        if (!HasRange) return (0, 0);
        if (method == CalibrationMethod.MinMax || _count == 0 || AbsMax == 0) return (Min, Max);
        float binWidth = AbsMax / Bins;
        int levels = Min >= 0 && type == QuantizedType.UInt8 ? 255 : 127;
        int cut = method switch
        {
            CalibrationMethod.Percentile => PercentileBin(0.9999),
            CalibrationMethod.Entropy => EntropyBin(levels + 1),
            CalibrationMethod.Mse => MseBin(levels),
            _ => Bins,
        };
        float threshold = cut * binWidth;
        return (MathF.Max(Min, -threshold), MathF.Min(Max, threshold));
    }

    private int PercentileBin(double fraction)
    {
        long target = (long)Math.Ceiling(_count * fraction);
        long sum = 0;
        for (int i = 0; i < Bins; i++)
        {
            sum += _histogram[i];
            if (sum >= target) return i + 1;
        }
        return Bins;
    }

    // Each candidate clips at bin i: the clipped mass goes to the last kept bin (P), and the kept bins
    // are merged into `levels` groups and spread back over their non-empty bins (Q).
    private int EntropyBin(int levels)
    {
        int best = Bins;
        double bestKl = double.MaxValue;
        var p = new double[Bins];
        var q = new double[Bins];
        for (int i = levels; i <= Bins; i += Math.Max(1, levels / 16))
        {
            double outliers = 0;
            for (int k = i; k < Bins; k++) outliers += _histogram[k];
            for (int k = 0; k < i; k++) p[k] = _histogram[k];
            p[i - 1] += outliers;
            double pSum = 0;
            for (int k = 0; k < i; k++) pSum += p[k];
            if (pSum == 0) continue;
            Array.Clear(q, 0, i);
            double perLevel = (double)i / levels;
            for (int l = 0; l < levels; l++)
            {
                int start = (int)(l * perLevel), end = Math.Max(start + 1, (int)((l + 1) * perLevel));
                double total = 0;
                int nonEmpty = 0;
                for (int k = start; k < end && k < i; k++) { total += _histogram[k]; if (_histogram[k] > 0) nonEmpty++; }
                if (nonEmpty == 0) continue;
                for (int k = start; k < end && k < i; k++) if (_histogram[k] > 0) q[k] = total / nonEmpty;
            }
            double qSum = 0;
            for (int k = 0; k < i; k++) qSum += q[k];
            double kl = 0;
            for (int k = 0; k < i; k++)
            {
                if (p[k] == 0) continue;
                double pk = p[k] / pSum;
                double qk = q[k] > 0 ? q[k] / qSum : 1e-12;
                kl += pk * Math.Log(pk / qk);
            }
            if (kl < bestKl) { bestKl = kl; best = i; }
        }
        return best;
    }

    private int MseBin(int levels)
    {
        int best = Bins;
        double bestError = double.MaxValue;
        for (int i = 16; i <= Bins; i++)
        {
            double step = (double)i / levels; // in bins
            double error = 0;
            for (int k = 0; k < Bins; k++)
            {
                if (_histogram[k] == 0) continue;
                double center = k + 0.5;
                error += center <= i ? _histogram[k] * step * step / 12.0 : _histogram[k] * (center - i) * (center - i);
            }
            if (error < bestError) { bestError = error; best = i; }
        }
        return best;
    }
}
