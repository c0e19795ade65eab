using System.Text.Json.Nodes;
using EdgeAgent.Daemon.Reservoir;

namespace EdgeAgent.Daemon.Control.Commands;

/// <summary>
/// <c>label</c>: <c>{"class": "bearing_fault"}</c> labels the latest window; with <c>"sample": 123</c> a stored
/// sample. Labels feed the class-balanced reservoir and, through it, on-device learning.
/// </summary>
public sealed class LabelCommand(IReservoir reservoir) : ICommandHandler
{
    public string Verb => "label";

    public ValueTask<CommandResult> HandleAsync(CommandRequest request, CancellationToken cancellationToken)
    {
        if (!request.TryGetString("class", out var label, out var error))
            return ValueTask.FromResult(CommandResult.Fail(error ?? "'class' is required: the label to attach"));
        if (string.IsNullOrWhiteSpace(label) || label.Length > 64)
            return ValueTask.FromResult(CommandResult.Fail("'class' must be 1-64 characters"));
        if (request.TryGetInt64("sample", out long sample, out error))
        {
            return ValueTask.FromResult(reservoir.Label(sample, label)
                ? CommandResult.Success(new JsonObject { ["sample"] = sample, ["class"] = label })
                : CommandResult.Fail($"sample {sample} is not in the reservoir"));
        }
        if (error is not null) return ValueTask.FromResult(CommandResult.Fail(error));
        try
        {
            long id = reservoir.LabelLatest(label);
            return ValueTask.FromResult(CommandResult.Success(new JsonObject { ["sample"] = id, ["class"] = label }));
        }
        catch (InvalidOperationException e)
        {
            return ValueTask.FromResult(CommandResult.Fail(e.Message));
        }
    }
}
