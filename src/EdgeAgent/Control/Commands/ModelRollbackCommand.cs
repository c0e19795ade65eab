using System.Text.Json.Nodes;
using EdgeAgent.Daemon.Inference;
using EdgeAgent.Daemon.Models;

namespace EdgeAgent.Daemon.Control.Commands;

/// <summary>
/// <c>model/rollback</c>: <c>{"version": "1.2"}</c> serves that installed version, <c>{}</c> the previous one.
/// Only versions already in the store (hence verified when installed) can be chosen.
/// </summary>
public sealed class ModelRollbackCommand(ModelHost models) : ICommandHandler
{
    public string Verb => "model/rollback";

    public async ValueTask<CommandResult> HandleAsync(CommandRequest request, CancellationToken cancellationToken)
    {
        if (!request.TryGetString("version", out var version, out var error) && error is not null)
            return CommandResult.Fail(error);
        try
        {
            var served = await models.RollbackAsync(version, cancellationToken).ConfigureAwait(false);
            return CommandResult.Success(new JsonObject { ["name"] = served.Stored.Name, ["version"] = served.Stored.Version });
        }
        catch (Exception e) when (e is ModelStoreException or ModelLoadException)
        {
            return CommandResult.Fail(e.Message);
        }
    }
}
