using System.Text.Json.Nodes;
using EdgeAgent.Daemon.Reservoir;

namespace EdgeAgent.Daemon.Control.Commands;

/// <summary><c>reservoir/stats</c>: sizes, per-class counts, disk use against the quota.</summary>
public sealed class ReservoirStatsCommand(IReservoir reservoir) : ICommandHandler
{
    public string Verb => "reservoir/stats";

    public ValueTask<CommandResult> HandleAsync(CommandRequest request, CancellationToken cancellationToken)
    {
        var stats = reservoir.GetStats();
        var perClass = new JsonObject();
        foreach (var (label, count) in stats.PerClass.OrderBy(p => p.Key, StringComparer.Ordinal)) perClass[label] = count;
        return ValueTask.FromResult(CommandResult.Success(new JsonObject
        {
            ["unlabelled"] = stats.Unlabelled,
            ["labelled"] = stats.Labelled,
            ["held_out"] = stats.HeldOut,
            ["seen"] = stats.Seen,
            ["size_bytes"] = stats.SizeBytes,
            ["quota_bytes"] = stats.QuotaBytes,
            ["dropped"] = stats.Dropped,
            ["per_class"] = perClass,
        }));
    }
}
