using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Inference;
using EdgeAgent.Daemon.Reservoir;
using EdgeAgent.Daemon.Sensors;
using EdgeAgent.Daemon.Sensors.Simulated;
using Microsoft.Extensions.Hosting;

namespace EdgeAgent.Daemon.Learning;

/// <summary>
/// <c>learning:labelRule</c>: labels every <c>learning:labelEvery</c>-th inferred window by itself, so a demo
/// or a rig with a known ground truth learns without anyone pressing the teach button. <c>simulatedRegime</c>
/// labels with the simulated source's true regime (lower case: <c>idle</c>, <c>normal</c>, <c>imbalance</c>,
/// …). The window labelled is the reservoir's latest, the one whose inference was just published.
/// </summary>
public sealed class LabelRuleService : BackgroundService
{
    private readonly Broadcast<InferenceRecord>.Subscription _records;
    private readonly IReservoir _reservoir;
    private readonly Func<string?> _truth;
    private readonly int _every;

    public LabelRuleService(Broadcast<InferenceRecord> records, IReservoir reservoir, Func<string?> truth, int every)
    {
        if (every < 1) throw new ArgumentOutOfRangeException(nameof(every), $"learning:labelEvery must be at least 1, is {every}");
        _records = records.Subscribe("label-rule", 64);
        _reservoir = reservoir;
        _truth = truth;
        _every = every;
    }

    public long Labelled { get; private set; }

    /// <summary>The ground truth the rule names, or throws naming why the configuration cannot provide it.</summary>
    public static Func<string?> Truth(string rule, SensorRegistry sensors) => rule switch
    {
        "simulatedRegime" => sensors.PipelineSource.Source is SimulatedVibrationSource simulated
            ? () => simulated.TrueRegime.ToString().ToLowerInvariant()
            : throw new LearnerException($"learning:labelRule 'simulatedRegime' needs the pipeline source to be a simulated sensor; '{sensors.PipelineSource.Options.Name}' is {sensors.PipelineSource.Options.Type}"),
        _ => throw new LearnerException($"learning:labelRule '{rule}' is not known (none, simulatedRegime)"),
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var record in _records.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                if (record.Sequence % _every != 0 || _truth() is not { } label) continue;
                try
                {
                    _reservoir.LabelLatest(label);
                    Labelled++;
                }
                catch (InvalidOperationException)
                {
                    // No window offered yet (the record raced ahead of the reservoir): the next one will do.
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override void Dispose()
    {
        _records.Dispose();
        base.Dispose();
    }
}
