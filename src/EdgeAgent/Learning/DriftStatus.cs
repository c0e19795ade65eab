using System.Buffers;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Daemon.Learning;

/// <summary>
/// The <see cref="DriftMonitor"/>'s state at one moment: the <c>drift</c> object of the daemon's status. A value
/// copied under the monitor's lock and written straight to UTF-8 (<see cref="Write"/>) without nodes, strings or boxes,
/// because the retained status is written from it every minute for as long as the daemon runs.
/// </summary>
public readonly record struct DriftStatus
{
    /// <summary><c>collecting reference</c>, <c>collecting recent</c> or <c>monitoring</c>.</summary>
    public required string State { get; init; }
    public required double Threshold { get; init; }
    public string? ReferenceVersion { get; init; }
    public int ReferenceWindows { get; init; }
    public bool ReferenceFromDisk { get; init; }
    public int RecentWindows { get; init; }
    public bool Drifting { get; init; }
    /// <summary>Whether a check has measured the recent windows (the fields below are then set).</summary>
    public bool Measured { get; init; }
    public double MeanPsi { get; init; }
    public double MaxPsi { get; init; }
    /// <summary>The monitored feature with the largest PSI: an index into [sampled embedding…, top score].</summary>
    public int MaxFeature { get; init; }
    /// <summary>Monitored features (the last one is the top score) and the embedding stride they were sampled with.</summary>
    public int Features { get; init; }
    public int Stride { get; init; }
    public double ScorePsi { get; init; }
    public DriftLevel Level { get; init; }
    /// <summary>Recent windows the last check measured.</summary>
    public int Windows { get; init; }
    public DateTimeOffset? CheckedAt { get; init; }
    public string? Error { get; init; }

    /// <summary>The name a report gives a monitored feature: <c>top score</c> or <c>embedding[i]</c> (i in the full embedding).</summary>
    public static string FeatureName(int feature, int features, int stride) =>
        feature == features - 1 ? "top score" : string.Create(CultureInfo.InvariantCulture, $"embedding[{feature * stride}]");

    /// <summary>The level as reports spell it.</summary>
    public static string LevelName(DriftLevel level) => level switch
    {
        DriftLevel.None => "none",
        DriftLevel.Moderate => "moderate",
        DriftLevel.Significant => "significant",
        _ => level.ToString().ToLowerInvariant(),
    };

    /// <summary>Writes the status as one JSON object value (the writer is where a value goes: after a property name, or at the root).</summary>
    public void Write(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("state", State);
        writer.WriteNumber("threshold", Threshold);
        writer.WriteString("reference_version", ReferenceVersion);
        writer.WriteNumber("reference_windows", ReferenceWindows);
        writer.WriteBoolean("reference_from_disk", ReferenceFromDisk);
        writer.WriteNumber("recent_windows", RecentWindows);
        writer.WriteBoolean("drifting", Drifting);
        if (Measured)
        {
            Span<char> text = stackalloc char[48];
            writer.WriteNumber("psi", Math.Round(MeanPsi, 4));
            writer.WriteNumber("max_psi", Math.Round(MaxPsi, 4));
            if (MaxFeature == Features - 1) writer.WriteString("max_feature", "top score");
            else if (text.TryWrite(CultureInfo.InvariantCulture, $"embedding[{MaxFeature * Stride}]", out int written)) writer.WriteString("max_feature", text[..written]);
            else writer.WriteString("max_feature", FeatureName(MaxFeature, Features, Stride));
            writer.WriteString("level", LevelName(Level));
            writer.WriteNumber("score_psi", Math.Round(ScorePsi, 4));
            writer.WriteNumber("windows", Windows);
            if (CheckedAt is { } at && at.TryFormat(text, out int length, "O", CultureInfo.InvariantCulture)) writer.WriteString("checked_at", text[..length]);
            else if (CheckedAt is { } other) writer.WriteString("checked_at", other.ToString("O", CultureInfo.InvariantCulture));
            else writer.WriteNull("checked_at");
        }
        if (Error is not null) writer.WriteString("error", Error);
        writer.WriteEndObject();
    }

    /// <summary>The status as a JSON object: <see cref="Write"/> read back (for replies and tests, not the periodic path).</summary>
    public JsonObject ToJson()
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var writer = new Utf8JsonWriter(buffer)) Write(writer);
        return JsonNode.Parse(buffer.WrittenSpan)!.AsObject();
    }
}
