using EdgeAgent.Compression.Data.Simulated;
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
/// labels with the simulated source's true regime under the model's class names (<c>idle</c>, <c>normal</c>,
/// <c>imbalance</c>, <c>misalignment</c>, <c>bearing_fault</c>). The window labelled is the reservoir's latest,
/// the one whose inference was just published.
/// </summary>
public sealed class LabelRuleService : BackgroundService
{
    private readonly Broadcast<InferenceRecord>.Subscription _records;
    private readonly IReservoir _reservoir;
    private readonly Func<string?> _truth;
    private readonly int _every;
    private string? _previousTruth;

    public LabelRuleService(Broadcast<InferenceRecord> records, IReservoir reservoir, Func<string?> truth, int every)
    {
        if (every < 1) throw new ArgumentOutOfRangeException(nameof(every), $"learning:labelEvery must be at least 1, is {every}");
        _records = records.Subscribe("label-rule", 64);
        _reservoir = reservoir;
        _truth = truth;
        _every = every;
    }

    /// <summary>Windows labelled so far.</summary>
    public long Labelled { get; private set; }

    /// <summary>The ground truth the rule names, or throws naming why the configuration cannot provide it.</summary>
    public static Func<string?> Truth(string rule, SensorRegistry sensors) => rule switch
    {
        "simulatedRegime" => sensors.PipelineSource.Source is SimulatedVibrationSource simulated
            ? () => simulated.TrueRegime.ToName()
            : throw new LearnerException($"learning:labelRule 'simulatedRegime' needs the pipeline source to be a simulated sensor; '{sensors.PipelineSource.Options.Name}' is {sensors.PipelineSource.Options.Type}"),
        _ => throw new LearnerException($"learning:labelRule '{rule}' is not known (none, simulatedRegime)"),
    };

    /// <summary>
    /// Labels the latest window if the record is due and the truth has not changed since the previous record:
    /// the truth is read when the record arrives, so a window inferred across a change of regime would
    /// otherwise carry the new regime's label for samples of the old one.
    /// </summary>
    public bool Consider(in InferenceRecord record)
    {
        string? truth = _truth();
        bool stable = truth is not null && truth == _previousTruth;
        _previousTruth = truth;
        if (!stable || record.Sequence % _every != 0) return false;
        try
        {
            _reservoir.LabelLatest(truth!);
        }
        catch (InvalidOperationException)
        {
            // No window offered yet (the record raced ahead of the reservoir): the next due one will do.
            return false;
        }
        Labelled++;
        return true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var stop = _records.CompleteOn(stoppingToken);
        try
        {
            await foreach (var record in _records.Reader.ReadAllAsync().ConfigureAwait(false))
                Consider(record);
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
