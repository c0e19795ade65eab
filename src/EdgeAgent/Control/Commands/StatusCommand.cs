namespace EdgeAgent.Daemon.Control.Commands;

/// <summary><c>status</c>: the same snapshot as the retained status topic.</summary>
public sealed class StatusCommand(IStatusProvider status) : ICommandHandler
{
    public string Verb => "status";

    public ValueTask<CommandResult> HandleAsync(CommandRequest request, CancellationToken cancellationToken) =>
        ValueTask.FromResult(CommandResult.Success(status.GetStatus().ToJson()));
}
