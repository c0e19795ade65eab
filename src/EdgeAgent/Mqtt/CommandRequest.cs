using System.Text.Json;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>A parsed, well-formed request: a known verb, an id, and the request object for its arguments.</summary>
public sealed class CommandRequest(string verb, string id, JsonElement body)
{
    public string Verb { get; } = verb;
    public string Id { get; } = id;
    public JsonElement Body { get; } = body;

    public bool Has(string field) => Body.TryGetProperty(field, out var value) && value.ValueKind != JsonValueKind.Null;

    public string RequireString(string field, int maxLength = 256) =>
        OptionalString(field, maxLength) ?? throw new CommandException($"field '{field}' is required (a string)");

    public string? OptionalString(string field, int maxLength = 256)
    {
        if (!Body.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String) throw new CommandException($"field '{field}' must be a string, got {Kind(value)}");
        string text = value.GetString()!;
        if (text.Length > maxLength) throw new CommandException($"field '{field}' is {text.Length} characters long, at most {maxLength} allowed");
        return text;
    }

    public long? OptionalInteger(string field, long min, long max)
    {
        if (!Body.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out long number))
            throw new CommandException($"field '{field}' must be an integer, got {Kind(value)}");
        if (number < min || number > max) throw new CommandException($"field '{field}' is {number}, expected {min}..{max}");
        return number;
    }

    public bool? OptionalBool(string field)
    {
        if (!Body.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new CommandException($"field '{field}' must be true or false, got {Kind(value)}"),
        };
    }

    public JsonElement RequireValue(string field) =>
        Body.TryGetProperty(field, out var value) ? value : throw new CommandException($"field '{field}' is required");

    /// <summary>Refuses fields the verb does not know, so a typo ("verison") is an error rather than silently ignored.</summary>
    public void AllowOnly(params string[] fields)
    {
        foreach (var property in Body.EnumerateObject())
            if (property.Name != "id" && Array.IndexOf(fields, property.Name) < 0)
                throw new CommandException(fields.Length == 0
                    ? $"unknown field '{Truncate(property.Name)}' ({Verb} takes no arguments)"
                    : $"unknown field '{Truncate(property.Name)}' (expected: {string.Join(", ", fields)})");
    }

    internal static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    internal static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "...";
}
