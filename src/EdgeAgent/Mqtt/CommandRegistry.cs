using System.Text.Json.Nodes;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>Handles one verb. Returns the reply's "result"; throws <see cref="CommandException"/> for a refusal.</summary>
public delegate ValueTask<JsonNode?> CommandHandler(CommandRequest request, CancellationToken cancellationToken);

/// <summary>The verbs the device answers, each with its handler; filled at start-up, read-only afterwards.</summary>
public sealed class CommandRegistry
{
    private readonly Dictionary<string, CommandHandler> _handlers = new(StringComparer.Ordinal);

    public IEnumerable<string> Verbs => _handlers.Keys.Order(StringComparer.Ordinal);

    public CommandRegistry Register(string verb, CommandHandler handler)
    {
        if (string.IsNullOrEmpty(verb) || verb.Contains('+') || verb.Contains('#') || verb.StartsWith('/') || verb.EndsWith('/'))
            throw new ArgumentException($"'{verb}' is not a valid verb (one or more topic levels without wildcards)", nameof(verb));
        if (!_handlers.TryAdd(verb, handler)) throw new ArgumentException($"verb '{verb}' is registered twice", nameof(verb));
        return this;
    }

    public bool TryGet(string verb, out CommandHandler handler) => _handlers.TryGetValue(verb, out handler!);
}
