using System.Text.Json.Nodes;
using EdgeAgent.Daemon.Models;

namespace EdgeAgent.Daemon.Control.Commands;

/// <summary><c>model/list</c>: every installed version, newest first, with the served one marked.</summary>
public sealed class ModelListCommand(ModelHost models) : ICommandHandler
{
    public string Verb => "model/list";

    public ValueTask<CommandResult> HandleAsync(CommandRequest request, CancellationToken cancellationToken)
    {
        string? current = models.Current?.Stored.Version;
        var versions = new JsonArray(models.Store.List(models.ModelName).Select(m => (JsonNode?)m.ToJson(m.Version == current)).ToArray());
        return ValueTask.FromResult(CommandResult.Success(new JsonObject
        {
            ["name"] = models.ModelName,
            ["current"] = current,
            ["versions"] = versions,
        }));
    }
}
