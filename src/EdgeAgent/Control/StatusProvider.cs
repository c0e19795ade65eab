using System.Text.Json.Nodes;
using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Models;
using EdgeAgent.Daemon.Pipeline;
using EdgeAgent.Daemon.Reservoir;

namespace EdgeAgent.Daemon.Control;

/// <summary>Builds <see cref="DaemonStatus"/> from the counters; rates are computed between successive calls.</summary>
public sealed class StatusProvider : IStatusProvider
{
    private readonly EdgeAgentOptions _options;
    private readonly ModelHost _models;
    private readonly PipelineMetrics _metrics;
    private readonly IReservoir? _reservoir;
    private readonly Learning.DriftMonitor? _drift;
    private readonly TimeProvider _time;
    private readonly DateTimeOffset _startedAt;
    private readonly string _kernelPath;
    private readonly long? _processStartTimestamp;
    // Fixed for the process's life; read once (the runtime builds a dictionary of every GC setting, boxed, per call),
    // so the periodic retained status does not rebuild it. DaemonStatus.ToJson clones it into each reply.
    private readonly JsonObject _gcSettings = GcSettings();
    private readonly object _gate = new();
    private long _lastTimestamp;
    private long _lastSamples;
    private long _lastInferences;
    private double _sampleRate;
    private double _inferenceRate;

    public StatusProvider(EdgeAgentOptions options, ModelHost models, PipelineMetrics metrics, TimeProvider time, IReservoir? reservoir = null, Learning.DriftMonitor? drift = null)
    {
        _drift = drift;
        _options = options;
        _models = models;
        _metrics = metrics;
        _reservoir = reservoir;
        _time = time;
        _startedAt = time.GetUtcNow();
        _lastTimestamp = time.GetTimestamp();
        _kernelPath = KernelPathName();
        _processStartTimestamp = ProcessStartTimestamp(time);
    }

    // The process's start on the TimeProvider's clock, so that the first inference can be timed from the exec (runtime
    // start-up, configuration, model load and the first window's samples all included). Null where /proc says nothing.
    private static long? ProcessStartTimestamp(TimeProvider time)
    {
        try
        {
            var age = DateTime.UtcNow - System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime();
            return age < TimeSpan.Zero || age > TimeSpan.FromDays(1) ? null : time.GetTimestamp() - (long)(age.TotalSeconds * time.TimestampFrequency);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or NotSupportedException)
        {
            return null;
        }
    }

    public static string KernelPathName()
    {
        try
        {
            return EdgeAgent.Kernels.IsaNames.ToName(EdgeAgent.Kernels.IsaSelection.FromEnvironment());
        }
        catch (EdgeAgent.Kernels.IsaNotSupportedException e)
        {
            return "invalid: " + e.Message;
        }
    }

    public DaemonStatus GetStatus()
    {
        var served = _models.Current;
        long samples = _metrics.Samples, inferences = _metrics.Inferences;
        lock (_gate)
        {
            long now = _time.GetTimestamp();
            double seconds = _time.GetElapsedTime(_lastTimestamp, now).TotalSeconds;
            if (seconds >= 0.5)
            {
                _sampleRate = (samples - _lastSamples) / seconds;
                _inferenceRate = (inferences - _lastInferences) / seconds;
                _lastSamples = samples;
                _lastInferences = inferences;
                _lastTimestamp = now;
            }
        }
        var reservoir = _reservoir?.GetCounters();
        string health = "ok";
        string? reason = null;
        if (served is null)
        {
            health = "failed";
            reason = "no model loaded";
        }
        else if (_metrics.DroppedWindows > 0 || _metrics.DroppedSamples > 0)
        {
            health = "degraded";
            reason = DroppedReason(_metrics.DroppedSamples, _metrics.DroppedWindows);
        }
        return new DaemonStatus
        {
            DeviceId = _options.Device.Id,
            Version = Program.Version,
            KernelPath = _kernelPath,
            StartedAt = _startedAt,
            UptimeSeconds = (_time.GetUtcNow() - _startedAt).TotalSeconds,
            ModelName = served?.Stored.Name ?? _options.Model.Name,
            ModelVersion = served?.Stored.Version,
            Health = health,
            HealthReason = reason,
            SampleRateHz = _sampleRate,
            InferenceRateHz = _inferenceRate,
            Inferences = inferences,
            DroppedSamples = _metrics.DroppedSamples,
            DroppedWindows = _metrics.DroppedWindows,
            LastModelUpdate = served?.ActivatedAt,
            LastPrediction = _metrics.LastPrediction,
            ReservoirSamples = reservoir?.Unlabelled ?? 0,
            ReservoirLabelled = reservoir?.Labelled ?? 0,
            ReservoirSeen = reservoir?.Seen ?? 0,
            ReservoirWrites = reservoir?.Writes ?? 0,
            ReservoirWriteAllocatedBytes = reservoir?.WriteAllocatedBytes ?? 0,
            FirstInferenceMs = _metrics.FirstInferenceTimestamp is > 0 and long first && _processStartTimestamp is long start
                ? _time.GetElapsedTime(start, first).TotalMilliseconds
                : null,
            InferenceAllocatedBytes = _metrics.InferenceAllocatedBytes,
            // Precise: the imprecise count leaves out what threads have reserved but not yet used (up to ~8 KB each),
            // which over a benchmark's interval of a hundred inferences would blur the per-inference figure.
            ProcessAllocatedBytes = GC.GetTotalAllocatedBytes(precise: true),
            ManagedHeapBytes = GC.GetTotalMemory(forceFullCollection: false),
            ManagedCommittedBytes = CommittedBytes(),
            GcSettings = _gcSettings,
            ResidentBytes = ResidentMemory.Bytes(),
            Drift = _drift?.Snapshot(),
        };
    }

    // The reason of a degraded health names the drop counts; formatted again only when they change (a start-up's drops
    // would otherwise cost a string in every status for the rest of the daemon's life).
    private (long Samples, long Windows, string Text)? _droppedReason;

    private string DroppedReason(long samples, long windows)
    {
        lock (_gate)
        {
            if (_droppedReason is { } last && last.Samples == samples && last.Windows == windows) return last.Text;
            string text = $"dropped {samples} samples and {windows} windows since start";
            _droppedReason = (samples, windows, text);
            return text;
        }
    }

    // GC.GetGCMemoryInfo builds an object with per-generation arrays (~0.3 KB) on each call, for figures that describe
    // the last collection and so change only when one runs: read again only after a collection (the gen0 count
    // counts every collection).
    private int _committedAtCollection = -1;
    private long _committedBytes;

    private long CommittedBytes()
    {
        lock (_gate)
        {
            int collections = GC.CollectionCount(0);
            if (collections != _committedAtCollection)
            {
                _committedBytes = GC.GetGCMemoryInfo().TotalCommittedBytes;
                _committedAtCollection = collections;
            }
            return _committedBytes;
        }
    }

    private static JsonObject GcSettings()
    {
        var variables = GC.GetConfigurationVariables();
        var json = new JsonObject();
        foreach (var key in (string[])["ConcurrentGC", "GCgen0size", "GCConserveMem", "RetainVM", "ServerGC"])
            if (variables.TryGetValue(key, out var value))
                json[key] = value switch { bool b => b, long l => l, ulong u => (long)u, int n => n, _ => value.ToString() };
        return json;
    }
}
