using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;

namespace EdgeAgent.Daemon.Control.Commands;

/// <summary>
/// <c>config/get</c>: the effective configuration as flat <c>key: value</c> pairs (optionally under
/// <c>"key"</c>), with secrets' file paths but never their contents.
/// </summary>
public sealed class ConfigGetCommand(IConfigurationRoot configuration) : ICommandHandler
{
    public string Verb => "config/get";

    public ValueTask<CommandResult> HandleAsync(CommandRequest request, CancellationToken cancellationToken)
    {
        if (!request.TryGetString("key", out var prefix, out var error) && error is not null)
            return ValueTask.FromResult(CommandResult.Fail(error));
        var result = new JsonObject();
        foreach (var pair in configuration.AsEnumerable().Where(p => p.Value is not null).OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase))
            if (prefix is null || pair.Key.Equals(prefix, StringComparison.OrdinalIgnoreCase) ||
                pair.Key.StartsWith(prefix + ":", StringComparison.OrdinalIgnoreCase))
                result[pair.Key] = pair.Value;
        if (prefix is not null && result.Count == 0)
            return ValueTask.FromResult(CommandResult.Fail($"no configuration key '{prefix}' is set"));
        return ValueTask.FromResult(CommandResult.Success(result));
    }
}
