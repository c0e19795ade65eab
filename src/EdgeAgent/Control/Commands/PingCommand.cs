using System.Text.Json.Nodes;

namespace EdgeAgent.Daemon.Control.Commands;

/// <summary><c>ping</c>: proves the control path end to end; answers with the daemon's clock.</summary>
public sealed class PingCommand(TimeProvider time) : ICommandHandler
{
    public string Verb => "ping";

    public ValueTask<CommandResult> HandleAsync(CommandRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(CommandResult.Success(new JsonObject { ["pong"] = true, ["time"] = time.GetUtcNow().ToString("O") }));
}
