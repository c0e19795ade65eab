using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeAgent.Daemon.Inference;

/// <summary>
/// One inference as the outside world sees it (telemetry, console, GPIO actions). A struct, so that
/// publishing it to subscribers' bounded queues allocates nothing.
/// </summary>
public readonly record struct InferenceRecord(
    long Sequence,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    string ModelVersion,
    int RawClass,
    float RawScore,
    int StableClass,
    string StableLabel,
    float SmoothedScore,
    double LatencyMs)
{
    /// <summary>The raw class's name; null when the producer did not know the model's labels.</summary>
    public string? RawLabel { get; init; }

    public JsonObject ToJson() => new()
    {
        ["seq"] = Sequence,
        ["window_start"] = WindowStart.ToUnixTimeMilliseconds(),
        ["window_end"] = WindowEnd.ToUnixTimeMilliseconds(),
        ["model_version"] = ModelVersion,
        ["class"] = StableLabel,
        ["class_index"] = StableClass,
        ["score"] = Math.Round(SmoothedScore, 4),
        ["raw_class"] = RawLabel,
        ["raw_class_index"] = RawClass,
        ["raw_score"] = Math.Round(RawScore, 4),
        ["latency_ms"] = Math.Round(LatencyMs, 3),
    };

    /// <summary>The same object as <see cref="ToJson"/>, written straight to UTF-8 (the telemetry path: no nodes, no strings).</summary>
    public void WriteJson(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteNumber("seq", Sequence);
        writer.WriteNumber("window_start", WindowStart.ToUnixTimeMilliseconds());
        writer.WriteNumber("window_end", WindowEnd.ToUnixTimeMilliseconds());
        writer.WriteString("model_version", ModelVersion);
        writer.WriteString("class", StableLabel);
        writer.WriteNumber("class_index", StableClass);
        writer.WriteNumber("score", Math.Round(SmoothedScore, 4));
        if (RawLabel is null) writer.WriteNull("raw_class");
        else writer.WriteString("raw_class", RawLabel);
        writer.WriteNumber("raw_class_index", RawClass);
        writer.WriteNumber("raw_score", Math.Round(RawScore, 4));
        writer.WriteNumber("latency_ms", Math.Round(LatencyMs, 3));
        writer.WriteEndObject();
    }
}
