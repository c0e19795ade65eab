namespace EdgeAgent.Runtime.Training;

public enum DriftLevel
{
    /// <summary>PSI below the warning threshold (conventionally 0.1).</summary>
    None,
    /// <summary>PSI between warning and alarm (0.1 – 0.25): worth watching.</summary>
    Moderate,
    /// <summary>PSI above the alarm threshold (0.25): the inputs no longer look like the calibration set.</summary>
    Significant,
}

/// <summary>Drift of a batch of vectors against the calibration reference.</summary>
/// <param name="MeanPsi">PSI averaged over features: the headline figure.</param>
/// <param name="MaxPsi">The largest single-feature PSI, and <paramref name="MaxFeature"/> its index.</param>
public sealed record DriftReport(double MeanPsi, double MaxPsi, int MaxFeature, double[] PerFeature, DriftLevel Level, int Samples);

/// <summary>
/// Population stability index of inputs or embeddings against calibration statistics. Per feature,
/// the calibration set fixes quantile bin edges (so each bin holds about the same share of it);
/// PSI = Σ_bins (a − e)·ln(a / e) with a, e the observed and calibration shares.
/// The reference is plain arrays so the daemon can store it next to the model.
/// </summary>
public sealed class PopulationStability
{
    private const double Floor = 1e-4;

    public PopulationStability(float[][] edges, double[][] expected)
    {
        if (edges.Length != expected.Length) throw new ArgumentException($"drift reference: {edges.Length} edge sets for {expected.Length} features");
        for (int f = 0; f < edges.Length; f++)
            if (expected[f].Length != edges[f].Length + 1)
                throw new ArgumentException($"drift reference feature {f}: {edges[f].Length} edges need {edges[f].Length + 1} shares, got {expected[f].Length}");
        Edges = edges;
        Expected = expected;
    }

    /// <summary>Per feature, the ascending inner bin edges (a value v falls in the first bin whose edge exceeds it).</summary>
    public float[][] Edges { get; }

    /// <summary>Per feature, the calibration share of each bin.</summary>
    public double[][] Expected { get; }

    public int Features => Edges.Length;

    public double WarningThreshold { get; init; } = 0.1;
    public double AlarmThreshold { get; init; } = 0.25;

    /// <summary>Fits quantile bins on the calibration vectors (at most <paramref name="bins"/> per feature; ties merge bins).</summary>
    public static PopulationStability Fit(IReadOnlyList<float[]> calibration, int bins = 10)
    {
        if (calibration.Count < bins) throw new ArgumentException($"drift calibration needs at least {bins} samples, got {calibration.Count}");
        if (bins < 2) throw new ArgumentOutOfRangeException(nameof(bins), "at least 2 bins");
        int features = calibration[0].Length;
        var edges = new float[features][];
        var expected = new double[features][];
        var column = new float[calibration.Count];
        for (int f = 0; f < features; f++)
        {
            for (int s = 0; s < calibration.Count; s++)
            {
                if (calibration[s].Length != features) throw new ArgumentException($"calibration sample {s} has {calibration[s].Length} features, the first has {features}");
                column[s] = calibration[s][f];
            }
            Array.Sort(column);
            var e = new List<float>();
            for (int b = 1; b < bins; b++)
            {
                float q = column[(int)((long)b * column.Length / bins)];
                if ((e.Count == 0 || q > e[^1]) && q > column[0]) e.Add(q);
            }
            edges[f] = e.ToArray();
            expected[f] = Shares(column, edges[f]);
        }
        return new PopulationStability(edges, expected);
    }

    public DriftReport Measure(IReadOnlyList<float[]> samples)
    {
        if (samples.Count == 0) throw new ArgumentException("drift needs at least one sample");
        var per = new double[Features];
        var column = new float[samples.Count];
        for (int f = 0; f < Features; f++)
        {
            for (int s = 0; s < samples.Count; s++)
            {
                if (samples[s].Length != Features) throw new ArgumentException($"sample {s} has {samples[s].Length} features, the reference {Features}");
                column[s] = samples[s][f];
            }
            var actual = Shares(column, Edges[f]);
            double psi = 0;
            for (int b = 0; b < actual.Length; b++)
            {
                double a = Math.Max(actual[b], Floor), e = Math.Max(Expected[f][b], Floor);
                psi += (a - e) * Math.Log(a / e);
            }
            per[f] = psi;
        }
        double mean = per.Average();
        int maxAt = 0;
        for (int f = 1; f < Features; f++) if (per[f] > per[maxAt]) maxAt = f;
        var level = mean >= AlarmThreshold ? DriftLevel.Significant : mean >= WarningThreshold ? DriftLevel.Moderate : DriftLevel.None;
        return new DriftReport(mean, per[maxAt], maxAt, per, level, samples.Count);
    }

    private static double[] Shares(ReadOnlySpan<float> values, float[] edges)
    {
        var counts = new double[edges.Length + 1];
        foreach (float v in values)
        {
            int lo = 0, hi = edges.Length;
            while (lo < hi)
            {
                int mid = (lo + hi) / 2;
                if (v < edges[mid]) hi = mid; else lo = mid + 1;
            }
            counts[lo]++;
        }
        for (int b = 0; b < counts.Length; b++) counts[b] /= values.Length;
        return counts;
    }
}
