using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeAgent.Daemon.Control;

/// <summary>
/// One verb of the control plane (<c>ping</c>, <c>model/list</c>, ...). The transport (MQTT today) parses the
/// request, finds the handler by <see cref="Verb"/> in the <see cref="CommandRegistry"/> and sends back the
/// <see cref="CommandResult"/>; handlers never see the transport, so they are tested without a broker.
/// </summary>
public interface ICommandHandler
{
    /// <summary>The verb as it appears in the topic after <c>cmd/</c>, e.g. <c>model/rollback</c>.</summary>
    string Verb { get; }

    /// <summary>
    /// Executes the request. Invalid arguments are reported as <see cref="CommandResult.Fail"/> naming the
    /// field, never as an exception; an exception is treated by the transport as an internal error.
    /// </summary>
    ValueTask<CommandResult> HandleAsync(CommandRequest request, CancellationToken cancellationToken);
}

/// <summary>A parsed request: the verb, the caller's id (null when absent) and the whole JSON body.</summary>
public sealed record CommandRequest(string Verb, string? Id, JsonElement Body)
{
    /// <summary>A request without a body (<c>{}</c>), for local callers and tests.</summary>
    public static CommandRequest Empty(string verb, string? id = null) =>
        new(verb, id, JsonDocument.Parse("{}").RootElement.Clone());

    public static CommandRequest Parse(string verb, string json)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement.Clone();
        string? id = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("id", out var idElement) &&
                     idElement.ValueKind == JsonValueKind.String ? idElement.GetString() : null;
        return new CommandRequest(verb, id, root);
    }

    /// <summary>An optional string field; a value of another JSON type is an argument error naming the field.</summary>
    public bool TryGetString(string field, out string? value, out string? error)
    {
        value = null;
        error = null;
        if (Body.ValueKind != JsonValueKind.Object || !Body.TryGetProperty(field, out var element) ||
            element.ValueKind == JsonValueKind.Null)
            return false;
        if (element.ValueKind != JsonValueKind.String)
        {
            error = $"'{field}' must be a string, not {element.ValueKind.ToString().ToLowerInvariant()}";
            return false;
        }
        value = element.GetString();
        return true;
    }

    /// <summary>An optional integer field; see <see cref="TryGetString"/>.</summary>
    public bool TryGetInt64(string field, out long value, out string? error)
    {
        value = 0;
        error = null;
        if (Body.ValueKind != JsonValueKind.Object || !Body.TryGetProperty(field, out var element) ||
            element.ValueKind == JsonValueKind.Null)
            return false;
        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt64(out value))
        {
            error = $"'{field}' must be an integer";
            return false;
        }
        return true;
    }
}

/// <summary>The outcome of a command: <c>{"ok": true, "result": {...}}</c> or <c>{"ok": false, "error": "..."}</c>.</summary>
public readonly record struct CommandResult(bool Ok, string? Error, JsonNode? Result)
{
    public static CommandResult Success(JsonNode? result = null) => new(true, null, result);

    public static CommandResult Fail(string error) => new(false, error, null);

    /// <summary>The reply body of the MQTT contract: <c>{"id": ..., "ok": ..., "error": ..., "result": ...}</c>.</summary>
    public JsonObject ToReply(string? id)
    {
        var reply = new JsonObject { ["id"] = id, ["ok"] = Ok };
        if (Error is not null) reply["error"] = Error;
        if (Result is not null) reply["result"] = Result.DeepClone();
        return reply;
    }
}
