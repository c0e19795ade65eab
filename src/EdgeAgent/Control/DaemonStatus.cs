using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeAgent.Daemon.Control;

/// <summary>
/// What <see cref="IStatusProvider"/> reports. Rates are per second over the last status interval. A value (the
/// retained status is written from one every minute: no object per status).
/// </summary>
public readonly record struct DaemonStatus
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
    /// <summary>PSI of recent inferences against the drift reference (<see cref="Learning.DriftMonitor.Snapshot"/>).</summary>
    public Learning.DriftStatus? Drift { get; init; }

    /// <summary>The status as a JSON object (the status command's reply): <see cref="WriteProperties"/> read back.</summary>
    public JsonObject ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(2048);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            WriteProperties(writer);
            writer.WriteEndObject();
        }
        return JsonNode.Parse(buffer.WrittenSpan)!.AsObject();
    }

    /// <summary>
    /// Writes the status's properties into the object <paramref name="writer"/> has open: the one definition of its JSON
    /// (<see cref="ToJson"/> reads it back). Written straight to UTF-8, without nodes or strings, because the retained
    /// status is written from it every minute; <paramref name="deviceId"/> replaces <see cref="DeviceId"/> when given.
    /// </summary>
    public void WriteProperties(Utf8JsonWriter writer, string? deviceId = null)
    {
        Span<char> time = stackalloc char[40];
        writer.WriteString("device", deviceId ?? DeviceId);
        writer.WriteString("version", Version);
        writer.WriteString("kernel_path", KernelPath);
        writer.WriteString("started_at", Iso(StartedAt, time));
        writer.WriteNumber("uptime_s", Math.Round(UptimeSeconds, 1));
        writer.WriteStartObject("model");
        writer.WriteString("name", ModelName);
        writer.WriteString("version", ModelVersion);
        writer.WriteEndObject();
        writer.WriteString("health", Health);
        writer.WriteString("health_reason", HealthReason);
        writer.WriteStartObject("rates");
        writer.WriteNumber("samples_per_s", Math.Round(SampleRateHz, 1));
        writer.WriteNumber("inferences_per_s", Math.Round(InferenceRateHz, 2));
        writer.WriteEndObject();
        writer.WriteNumber("inferences", Inferences);
        writer.WriteStartObject("dropped");
        writer.WriteNumber("samples", DroppedSamples);
        writer.WriteNumber("windows", DroppedWindows);
        writer.WriteEndObject();
        if (LastModelUpdate is { } update) writer.WriteString("last_update", Iso(update, time));
        else writer.WriteNull("last_update");
        writer.WriteString("last_prediction", LastPrediction);
        writer.WriteStartObject("reservoir");
        writer.WriteNumber("samples", ReservoirSamples);
        writer.WriteNumber("labelled", ReservoirLabelled);
        writer.WriteNumber("seen", ReservoirSeen);
        writer.WriteNumber("writes", ReservoirWrites);
        writer.WriteNumber("write_alloc_bytes", ReservoirWriteAllocatedBytes);
        writer.WriteEndObject();
        writer.WriteStartObject("performance");
        if (FirstInferenceMs is double ms) writer.WriteNumber("first_inference_ms", Math.Round(ms, 1));
        else writer.WriteNull("first_inference_ms");
        writer.WriteNumber("inference_alloc_bytes", InferenceAllocatedBytes);
        writer.WriteNumber("process_alloc_bytes", ProcessAllocatedBytes);
        writer.WriteNumber("managed_heap_bytes", ManagedHeapBytes);
        writer.WriteNumber("managed_committed_bytes", ManagedCommittedBytes);
        writer.WritePropertyName("gc");
        WriteNode(writer, GcSettings);
        writer.WriteNumber("rss_bytes", ResidentBytes);
        writer.WriteEndObject();
        writer.WritePropertyName("drift");
        if (Drift is { } drift) drift.Write(writer);
        else writer.WriteNullValue();
    }

    // The round-trip ("O") form, as DateTimeOffset.ToString("O") gives it, formatted without a string.
    private static ReadOnlySpan<char> Iso(DateTimeOffset value, Span<char> buffer) =>
        value.TryFormat(buffer, out int written, "O", CultureInfo.InvariantCulture) ? buffer[..written] : value.ToString("O", CultureInfo.InvariantCulture);

    private static void WriteNode(Utf8JsonWriter writer, JsonNode? node)
    {
        if (node is null) writer.WriteNullValue();
        else node.WriteTo(writer);
    }
}
