using System.Text.Json.Nodes;

namespace EdgeAgent.Daemon.Control;

/// <summary>What <see cref="IStatusProvider"/> reports. Rates are per second over the last status interval.</summary>
public sealed record DaemonStatus
{
    public required string DeviceId { get; init; }
    public required string Version { get; init; }
    public required string KernelPath { get; init; }
    public required DateTimeOffset StartedAt { get; init; }
    public required double UptimeSeconds { get; init; }
    public string? ModelName { get; init; }
    public string? ModelVersion { get; init; }
    /// <summary><c>ok</c>, <c>degraded</c> (running with drops or a fallback model) or <c>failed</c>.</summary>
    public required string Health { get; init; }
    public string? HealthReason { get; init; }
    public double SampleRateHz { get; init; }
    public double InferenceRateHz { get; init; }
    public long Inferences { get; init; }
    public long DroppedSamples { get; init; }
    public long DroppedWindows { get; init; }
    public DateTimeOffset? LastModelUpdate { get; init; }
    public string? LastPrediction { get; init; }
    public long ReservoirSamples { get; init; }
    public long ReservoirLabelled { get; init; }
    /// <summary>Windows offered to the reservoir over its whole life (Algorithm R's n: a new window is kept with probability capacity/n).</summary>
    public long ReservoirSeen { get; init; }
    /// <summary>Unlabelled windows written since start, and the managed bytes the writer allocated for them.</summary>
    public long ReservoirWrites { get; init; }
    public long ReservoirWriteAllocatedBytes { get; init; }
    /// <summary>From the process's start to the first finished inference (start-up, model load, first window).</summary>
    public double? FirstInferenceMs { get; init; }
    /// <summary>Cumulative managed bytes allocated by the inference loop; see <c>PipelineMetrics.InferenceAllocatedBytes</c>.</summary>
    public long InferenceAllocatedBytes { get; init; }
    /// <summary>Cumulative managed bytes allocated by the whole process (MQTT, reservoir writes, learning included).</summary>
    public long ProcessAllocatedBytes { get; init; }
    public long ManagedHeapBytes { get; init; }
    /// <summary>Memory the GC has committed from the OS (heap plus free space it keeps); its part of the RSS.</summary>
    public long ManagedCommittedBytes { get; init; }
    /// <summary>The GC settings in effect (from the project's runtime configuration, or DOTNET_ variables).</summary>
    public JsonObject? GcSettings { get; init; }
    public long ResidentBytes { get; init; }
    /// <summary>PSI of recent inferences against the drift reference (<see cref="Learning.DriftMonitor.Status"/>).</summary>
    public JsonObject? Drift { get; init; }

    public JsonObject ToJson() => new()
    {
        ["device"] = DeviceId,
        ["version"] = Version,
        ["kernel_path"] = KernelPath,
        ["started_at"] = StartedAt.ToString("O"),
        ["uptime_s"] = Math.Round(UptimeSeconds, 1),
        ["model"] = new JsonObject { ["name"] = ModelName, ["version"] = ModelVersion },
        ["health"] = Health,
        ["health_reason"] = HealthReason,
        ["rates"] = new JsonObject
        {
            ["samples_per_s"] = Math.Round(SampleRateHz, 1),
            ["inferences_per_s"] = Math.Round(InferenceRateHz, 2),
        },
        ["inferences"] = Inferences,
        ["dropped"] = new JsonObject { ["samples"] = DroppedSamples, ["windows"] = DroppedWindows },
        ["last_update"] = LastModelUpdate?.ToString("O"),
        ["last_prediction"] = LastPrediction,
        ["reservoir"] = new JsonObject
        {
            ["samples"] = ReservoirSamples,
            ["labelled"] = ReservoirLabelled,
            ["seen"] = ReservoirSeen,
            ["writes"] = ReservoirWrites,
            ["write_alloc_bytes"] = ReservoirWriteAllocatedBytes,
        },
        ["performance"] = new JsonObject
        {
            ["first_inference_ms"] = FirstInferenceMs is double ms ? Math.Round(ms, 1) : null,
            ["inference_alloc_bytes"] = InferenceAllocatedBytes,
            ["process_alloc_bytes"] = ProcessAllocatedBytes,
            ["managed_heap_bytes"] = ManagedHeapBytes,
            ["managed_committed_bytes"] = ManagedCommittedBytes,
            ["gc"] = GcSettings?.DeepClone(),
            ["rss_bytes"] = ResidentBytes,
        },
        ["drift"] = Drift?.DeepClone(),
    };
}
