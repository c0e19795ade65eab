using System.Text.Json.Nodes;
using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Control;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Daemon.Learning;

/// <summary>
/// Drift of what the served model sees: the population stability index (<see cref="PopulationStability"/>)
/// of the latest <c>learning:driftRecentWindows</c> inferences against a reference distribution, per feature
/// of [embedding…, top score], averaged. The reference is the first <c>learning:driftReferenceWindows</c>
/// windows a model sees on this device (bundles carry no calibration embeddings), kept on disk so a restart
/// during drift does not adopt the drifted data as normal. Versions learnt on the device keep their
/// ancestor's reference, because they share its frozen backbone; any other version starts a new one.
/// <see cref="Observe"/> runs on the inference thread and only copies; <see cref="Check"/> (the drift service,
/// every <c>learning:driftIntervalSeconds</c>) fits, measures and publishes <see cref="Detected"/> when the
/// mean PSI reaches <c>learning:driftThreshold</c> and <see cref="Cleared"/> when it falls back below it.
/// An embedding wider than <see cref="MaxEmbeddingFeatures"/> is monitored on evenly spaced features only: a
/// 3584-wide embedding would cost ~10 MB of collected windows for a mean PSI that an evenly spaced sample of its
/// features estimates just as well.
/// Memory is bounded by the options alone: the reference windows are kept only until the reference (bin edges and
/// shares, ~20 numbers per feature) is fitted; after that a recent window is kept as one bin index per feature
/// (a byte) in a ring, with running counts per bin, so <see cref="Observe"/> stays allocation-free and
/// <see cref="Check"/> measures from the counts without copying windows. Windows seen between the end of the
/// reference and its fit (at most one check interval) are not measured.
/// </summary>
public sealed class DriftMonitor
{
    public const string Detected = "drift.detected";
    public const string Cleared = "drift.cleared";
    private const int Bins = 10;

    /// <summary>The most embedding features the monitor follows; wider embeddings are sampled with a stride.</summary>
    public const int MaxEmbeddingFeatures = 256;

    private readonly LearningOptions _options;
    private readonly IEventSink _events;
    private readonly TimeProvider _time;
    private readonly string? _referencePath;
    private readonly object _gate = new();

    // Guarded by _gate: what Observe fills.
    private string? _model;
    private string? _referenceVersion;
    private int _features;
    private int _stride = 1;
    private List<float[]> _collecting = [];
    private float[][] _referenceRows = [];
    // Once the reference is set: the recent windows' bins, [window * _features + feature], and per feature the
    // number of recent windows in each bin, [feature * Bins + bin].
    private byte[] _recentBins = [];
    private int[] _binCounts = [];
    private int _recentNext;
    private int _recentCount;
    private long _observed;
    private PopulationStability? _reference;
    private int _referenceWindows;
    private bool _referenceFromDisk;
    private StoredReference? _stored;

    // Written by Check (and reset by Restart), also under _gate. The per-feature PSI of a check is measured into one
    // reused array (2 KB for a 256-feature monitor every check): a DriftReport gets its own copy only when Check is
    // asked for one; the drift service's periodic checks keep the summary alone.
    private double[] _perFeature = [];
    private Measurement? _last;
    private DateTimeOffset? _lastCheckedAt;
    private bool _drifting;
    private string? _error;

    public DriftMonitor(LearningOptions options, IEventSink events, TimeProvider time, string? referencePath)
    {
        if (options.DriftReferenceWindows < Bins) throw new ArgumentOutOfRangeException(nameof(options), $"learning:driftReferenceWindows must be at least {Bins}, is {options.DriftReferenceWindows}");
        if (options.DriftRecentWindows < 1) throw new ArgumentOutOfRangeException(nameof(options), $"learning:driftRecentWindows must be at least 1, is {options.DriftRecentWindows}");
        if (options.DriftThreshold <= 0) throw new ArgumentOutOfRangeException(nameof(options), $"learning:driftThreshold must be above 0, is {options.DriftThreshold}");
        _options = options;
        _events = events;
        _time = time;
        _referencePath = referencePath;
        _stored = referencePath is null ? null : StoredReference.TryLoad(referencePath, out _error);
    }

    /// <summary>Records one inference: the embedding and the highest score. Allocation-free once the reference is complete.</summary>
    public void Observe(string model, string version, ReadOnlySpan<float> embedding, ReadOnlySpan<float> scores)
    {
        int stride = Stride(embedding.Length);
        int features = Monitored(embedding.Length, stride) + 1;
        lock (_gate)
        {
            if (model != _model || features != _features || stride != _stride || (version != _referenceVersion && !LocalVersion.IsLocal(version)))
                Restart(model, version, features, stride);
            _observed++;
            float top = scores.Length > 0 ? float.NegativeInfinity : 0;
            foreach (float s in scores) top = Math.Max(top, s);
            if (_reference is null && _collecting.Count < _options.DriftReferenceWindows)
            {
                // The reference rows were allocated with the restart, so collecting copies into them.
                var row = _referenceRows[_collecting.Count];
                CopyMonitored(embedding, stride, row);
                row[^1] = top;
                _collecting.Add(row);
                return;
            }
            if (_reference is not { } reference) return; // collected, not fitted yet (the next check fits it)
            bool full = _recentCount == _options.DriftRecentWindows;
            int at = _recentNext * _features;
            for (int f = 0, i = 0; f < _features; f++, i += stride)
            {
                float value = f == _features - 1 ? top : embedding[i];
                int bin = BinOf(reference.Edges[f], value);
                if (full) _binCounts[f * Bins + _recentBins[at + f]]--;
                _binCounts[f * Bins + bin]++;
                _recentBins[at + f] = (byte)bin;
            }
            _recentNext = (_recentNext + 1) % _options.DriftRecentWindows;
            if (!full) _recentCount++;
        }
    }

    private static int BinOf(float[] edges, float value)
    {
        int lo = 0, hi = edges.Length;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (value < edges[mid]) hi = mid; else lo = mid + 1;
        }
        return lo;
    }

    /// <summary>Starts the recent ring for a reference that was fitted or loaded (under <c>_gate</c>).</summary>
    private void UseReference(PopulationStability reference)
    {
        _reference = reference;
        _recentBins = new byte[_options.DriftRecentWindows * _features];
        _binCounts = new int[_features * Bins];
        _recentNext = _recentCount = 0;
    }

    /// <summary>What one check found: the figures the status, the events and a <see cref="DriftReport"/> are made of.</summary>
    private readonly record struct Measurement(double MeanPsi, double MaxPsi, int MaxFeature, double ScorePsi, DriftLevel Level, int Samples);

    /// <summary>PSI per feature of the recent windows' bin shares against the reference's, into <c>_perFeature</c> (under <c>_gate</c>).</summary>
    private Measurement Measure(PopulationStability reference)
    {
        const double Floor = 1e-4; // as PopulationStability: an empty bin counts as a 0.01 % share
        if (_perFeature.Length != _features) _perFeature = new double[_features];
        var per = _perFeature;
        for (int f = 0; f < _features; f++)
        {
            var expected = reference.Expected[f];
            double psi = 0;
            for (int b = 0; b < expected.Length; b++)
            {
                double a = Math.Max((double)_binCounts[f * Bins + b] / _recentCount, Floor), e = Math.Max(expected[b], Floor);
                psi += (a - e) * Math.Log(a / e);
            }
            per[f] = psi;
        }
        double sum = 0;
        int maxAt = 0;
        for (int f = 0; f < per.Length; f++)
        {
            sum += per[f];
            if (per[f] > per[maxAt]) maxAt = f;
        }
        double mean = sum / per.Length;
        var level = mean >= reference.AlarmThreshold ? DriftLevel.Significant : mean >= reference.WarningThreshold ? DriftLevel.Moderate : DriftLevel.None;
        return new Measurement(mean, per[maxAt], maxAt, per[^1], level, _recentCount);
    }

    /// <summary>Fits a completed reference, measures the recent windows against it and publishes a crossing; null until both are complete.</summary>
    public DriftReport? Check() => CheckCore(withReport: true);

    /// <summary>
    /// <see cref="Check"/> without a <see cref="DriftReport"/> (the drift service's periodic call, whose caller reads the
    /// outcome from the status and the events): no allocation in steady state, when no crossing is published.
    /// </summary>
    public void CheckQuietly() => CheckCore(withReport: false);

    private DriftReport? CheckCore(bool withReport)
    {
        PopulationStability? reference;
        List<float[]>? toFit = null;
        Measurement? measured = null;
        DriftReport? report = null;
        string? model, version;
        int stride;
        lock (_gate)
        {
            stride = _stride;
            model = _model;
            version = _referenceVersion;
            reference = _reference;
            if (reference is null && _collecting.Count >= _options.DriftReferenceWindows) toFit = _collecting;
            else if (reference is not null && _recentCount == _options.DriftRecentWindows)
            {
                var m = Measure(reference);
                measured = m;
                // The report's array is a copy: the one measured into is reused by the next check.
                if (withReport) report = new DriftReport(m.MeanPsi, m.MaxPsi, m.MaxFeature, _perFeature.ToArray(), m.Level, m.Samples);
            }
        }
        if (toFit is not null)
        {
            var fitted = PopulationStability.Fit(toFit, Bins);
            lock (_gate)
            {
                if (!ReferenceEquals(toFit, _collecting)) return null; // the model changed meanwhile
                UseReference(fitted);
                _referenceWindows = toFit.Count;
                _collecting = [];
                _referenceRows = [];
            }
            Save(model!, version!, fitted, toFit.Count);
            return null;
        }
        if (measured is not { } measurement || reference is null) return null;
        bool drifting = measurement.MeanPsi >= _options.DriftThreshold, crossed;
        lock (_gate)
        {
            if (!ReferenceEquals(reference, _reference)) return null; // the model changed meanwhile
            _last = measurement;
            _lastCheckedAt = _time.GetUtcNow();
            crossed = drifting != _drifting;
            _drifting = drifting;
        }
        if (crossed)
        {
            string feature = DriftStatus.FeatureName(measurement.MaxFeature, reference.Features, stride);
            _events.Publish(new DaemonEvent(_time.GetUtcNow(), drifting ? Detected : Cleared,
                drifting
                    ? $"{model}: inputs drifted from the reference of {version}: mean PSI {measurement.MeanPsi:F3} ≥ {_options.DriftThreshold:F3} over the last {measurement.Samples} windows (largest {measurement.MaxPsi:F3} on {feature})"
                    : $"{model}: drift cleared: mean PSI {measurement.MeanPsi:F3} < {_options.DriftThreshold:F3} over the last {measurement.Samples} windows",
                ReportJson(measurement, reference.Features, stride, version)));
        }
        return report;
    }

    /// <summary>The <c>drift</c> object of the daemon's status, as JSON (<see cref="Snapshot"/> read back).</summary>
    public JsonObject Status() => Snapshot().ToJson();

    /// <summary>The monitor's state now, copied under its lock: what the daemon's status writes, without allocating.</summary>
    public DriftStatus Snapshot()
    {
        lock (_gate)
        {
            var last = _reference is null ? null : _last;
            return new DriftStatus
            {
                State = _reference is null ? "collecting reference" : _recentCount < _options.DriftRecentWindows ? "collecting recent" : "monitoring",
                Threshold = _options.DriftThreshold,
                ReferenceVersion = _referenceVersion,
                ReferenceWindows = _reference is null ? _collecting.Count : _referenceWindows,
                ReferenceFromDisk = _referenceFromDisk,
                RecentWindows = _recentCount,
                Drifting = _drifting,
                Measured = last is not null,
                MeanPsi = last?.MeanPsi ?? 0,
                MaxPsi = last?.MaxPsi ?? 0,
                MaxFeature = last?.MaxFeature ?? 0,
                Features = _reference?.Features ?? 0,
                Stride = _stride,
                ScorePsi = last?.ScorePsi ?? 0,
                Level = last?.Level ?? DriftLevel.None,
                Windows = last?.Samples ?? 0,
                CheckedAt = last is null ? null : _lastCheckedAt,
                Error = _error,
            };
        }
    }

    /// <summary>Whether the last check found the mean PSI at or above the threshold.</summary>
    public bool Drifting
    {
        get { lock (_gate) return _drifting; }
    }

    private static int Stride(int embeddingLength) => Math.Max(1, (embeddingLength + MaxEmbeddingFeatures - 1) / MaxEmbeddingFeatures);

    private static int Monitored(int embeddingLength, int stride) => (embeddingLength + stride - 1) / stride;

    private static void CopyMonitored(ReadOnlySpan<float> embedding, int stride, float[] row)
    {
        if (stride == 1)
        {
            embedding.CopyTo(row);
            return;
        }
        for (int i = 0, f = 0; i < embedding.Length; i += stride, f++) row[f] = embedding[i];
    }

    private void Restart(string model, string version, int features, int stride)
    {
        _model = model;
        _referenceVersion = version;
        _features = features;
        _stride = stride;
        _collecting = new List<float[]>(_options.DriftReferenceWindows);
        _referenceRows = [];
        _recentBins = [];
        _binCounts = [];
        _recentNext = _recentCount = 0;
        _reference = null;
        _referenceFromDisk = false;
        _last = null;
        _drifting = false;
        if (_stored is { } s && s.Model == model && s.Features == features && (s.Version == version || LocalVersion.IsLocal(version)) &&
            s.Reference.Edges.All(e => e.Length < Bins))
        {
            UseReference(s.Reference);
            _referenceVersion = s.Version;
            _referenceWindows = s.Windows;
            _referenceFromDisk = true;
        }
        else
        {
            _referenceRows = new float[_options.DriftReferenceWindows][];
            for (int i = 0; i < _referenceRows.Length; i++) _referenceRows[i] = new float[features];
        }
    }

    private void Save(string model, string version, PopulationStability reference, int windows)
    {
        if (_referencePath is null) return;
        try
        {
            var stored = new StoredReference(model, version, reference.Features, windows, reference);
            stored.Save(_referencePath);
            lock (_gate) _stored = stored;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            lock (_gate) _error = $"the drift reference could not be saved to {_referencePath}: {e.Message}";
        }
    }

    private JsonObject ReportJson(Measurement report, int features, int stride, string? version) => new()
    {
        ["psi"] = Math.Round(report.MeanPsi, 4),
        ["max_psi"] = Math.Round(report.MaxPsi, 4),
        ["max_feature"] = DriftStatus.FeatureName(report.MaxFeature, features, stride),
        ["level"] = DriftStatus.LevelName(report.Level),
        ["score_psi"] = Math.Round(report.ScorePsi, 4),
        ["windows"] = report.Samples,
        ["threshold"] = _options.DriftThreshold,
        ["reference_version"] = version,
    };
}
