using System.Globalization;
using System.Text;
using EdgeAgent.Daemon.Inference;

namespace EdgeAgent.Daemon.Hosting;

/// <summary>
/// Running totals of the inferences a foreground run has seen, for its closing summary: how many, which
/// classes (stable after smoothing, and raw), and latency percentiles over the most recent
/// <see cref="LatencyWindow"/> inferences, so a run of days keeps a fixed footprint.
/// </summary>
public sealed class InferenceTally
{
    public const int LatencyWindow = 8192;

    private readonly float[] _latencies = new float[LatencyWindow];
    private readonly Dictionary<string, long> _stable = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _raw = new(StringComparer.Ordinal);
    private readonly List<string> _stableOrder = [];
    private readonly List<string> _rawOrder = [];
    private double _latencySum;
    private double _latencyMax;

    public long Count { get; private set; }
    public string? FirstModelVersion { get; private set; }
    public string? LastModelVersion { get; private set; }
    public int StableChanges { get; private set; }
    private string? _lastStable;

    public void Add(in InferenceRecord record)
    {
        _latencies[Count % LatencyWindow] = (float)record.LatencyMs;
        Count++;
        _latencySum += record.LatencyMs;
        _latencyMax = Math.Max(_latencyMax, record.LatencyMs);
        Increment(_stable, _stableOrder, record.StableLabel);
        Increment(_raw, _rawOrder, record.RawLabel ?? "#" + record.RawClass.ToString(CultureInfo.InvariantCulture));
        if (_lastStable is not null && !string.Equals(_lastStable, record.StableLabel, StringComparison.Ordinal)) StableChanges++;
        _lastStable = record.StableLabel;
        FirstModelVersion ??= record.ModelVersion;
        LastModelVersion = record.ModelVersion;
    }

    public double MeanLatencyMs => Count == 0 ? 0 : _latencySum / Count;
    public double MaxLatencyMs => _latencyMax;

    /// <summary>The <paramref name="fraction"/> quantile (0..1) of the recent latencies, in milliseconds.</summary>
    public double LatencyQuantileMs(double fraction)
    {
        int n = (int)Math.Min(Count, LatencyWindow);
        if (n == 0) return 0;
        var sorted = _latencies.AsSpan(0, n).ToArray();
        Array.Sort(sorted);
        return sorted[(int)Math.Clamp(Math.Ceiling(fraction * n) - 1, 0, n - 1)];
    }

    /// <summary>"normal 120, idle 80" in order of first appearance.</summary>
    public string StableClasses => Describe(_stable, _stableOrder);
    public string RawClasses => Describe(_raw, _rawOrder);

    private static void Increment(Dictionary<string, long> counts, List<string> order, string label)
    {
        if (counts.TryGetValue(label, out long n)) counts[label] = n + 1;
        else
        {
            counts[label] = 1;
            order.Add(label);
        }
    }

    private static string Describe(Dictionary<string, long> counts, List<string> order)
    {
        if (order.Count == 0) return "none";
        var text = new StringBuilder();
        foreach (string label in order)
        {
            if (text.Length > 0) text.Append(", ");
            text.Append(CultureInfo.InvariantCulture, $"{label} {counts[label]}");
        }
        return text.ToString();
    }
}
