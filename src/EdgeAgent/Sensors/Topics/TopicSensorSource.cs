using System.Text.Json;

namespace EdgeAgent.Daemon.Sensors.Topics;

/// <summary>
/// A sensor whose readings arrive as MQTT messages. The sampler reads it at the configured rate with
/// sample-and-hold semantics: the latest reading repeats until a new one arrives; before the first reading
/// there is nothing to read.
/// </summary>
public sealed class TopicSensorSource : ISensorSource
{
    private readonly object _gate = new();
    private readonly float[] _latest;
    private bool _hasReading;

    public TopicSensorSource(string name, string topic, IReadOnlyList<string> channels)
    {
        Name = name;
        Topic = topic;
        Channels = channels;
        _latest = new float[channels.Count];
    }

    public string Name { get; }

    public string Topic { get; }

    public IReadOnlyList<string> Channels { get; }

    public double MaxRateHz => 1_000;

    public long Received { get; private set; }

    public bool Read(long timestampTicks, Span<float> destination)
    {
        lock (_gate)
        {
            if (!_hasReading) return false;
            _latest.CopyTo(destination);
            return true;
        }
    }

    /// <summary>Parses one payload: a number, an array of numbers, or an object with "values" or one field per channel.</summary>
    public bool Accept(ReadOnlySpan<byte> payload, out string? error)
    {
        Span<float> values = stackalloc float[_latest.Length];
        error = Parse(payload, values);
        if (error is not null) return false;
        lock (_gate)
        {
            values.CopyTo(_latest);
            _hasReading = true;
            Received++;
        }
        return true;
    }

    private string? Parse(ReadOnlySpan<byte> payload, Span<float> values)
    {
        var reader = new Utf8JsonReader(payload);
        try
        {
            using var document = JsonDocument.ParseValue(ref reader);
            var root = document.RootElement;
            switch (root.ValueKind)
            {
                case JsonValueKind.Number when values.Length == 1:
                    values[0] = root.GetSingle();
                    return null;
                case JsonValueKind.Array:
                    return FromArray(root, values);
                case JsonValueKind.Object when root.TryGetProperty("values", out var array) && array.ValueKind == JsonValueKind.Array:
                    return FromArray(array, values);
                case JsonValueKind.Object:
                    for (int i = 0; i < Channels.Count; i++)
                    {
                        if (!root.TryGetProperty(Channels[i], out var field) || field.ValueKind != JsonValueKind.Number)
                            return $"sensor {Name}: the object on {Topic} has no numeric field '{Channels[i]}'";
                        values[i] = field.GetSingle();
                    }
                    return null;
                default:
                    return $"sensor {Name}: a payload on {Topic} must be a number, an array of {Channels.Count} numbers or an object, not {root.ValueKind}";
            }
        }
        catch (JsonException e)
        {
            return $"sensor {Name}: payload on {Topic} is not JSON ({e.Message})";
        }
    }

    private string? FromArray(JsonElement array, Span<float> values)
    {
        if (array.GetArrayLength() != values.Length)
            return $"sensor {Name}: expected {values.Length} values on {Topic}, got {array.GetArrayLength()}";
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number) return $"sensor {Name}: value {i} on {Topic} is not a number";
            values[i++] = item.GetSingle();
        }
        return null;
    }

    public void Dispose()
    {
    }
}
