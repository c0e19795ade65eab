using System.Diagnostics;
using System.Text.Json.Nodes;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Models;
using EdgeAgent.Daemon.Reservoir;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Daemon.Learning;

/// <summary>
/// One on-device update, start to end: read the served bundle's head, take the reservoir's labelled samples
/// (their stored embeddings), train and gate with <see cref="HeadLearner"/>, and on acceptance pack the new
/// head as a local version signed by the device key, install it through <see cref="ModelHost"/> (atomic
/// switch, hot swap) and report. Not thread-safe: the learner service runs one at a time.
/// </summary>
public sealed class HeadUpdater
{
    private readonly ModelHost _models;
    private readonly IReservoir _reservoir;
    private readonly IEventSink _events;
    private readonly BundleSigningKey _key;
    private readonly LearningOptions _options;
    private readonly string _stagingDirectory;
    private readonly TimeProvider _time;
    private HeadModel? _head;

    public HeadUpdater(ModelHost models, IReservoir reservoir, IEventSink events, BundleSigningKey key, LearningOptions options, string stagingDirectory, TimeProvider time)
    {
        _models = models;
        _reservoir = reservoir;
        _events = events;
        _key = key;
        _options = options;
        _stagingDirectory = stagingDirectory;
        _time = time;
    }

    /// <summary>Samples labelled at or before this time were in an accepted update already (fresh = after it).</summary>
    public DateTimeOffset LastAcceptedLabelTime { get; private set; } = DateTimeOffset.MinValue;

    public LearnerOptions LearnerOptions() => new()
    {
        Epochs = _options.Epochs,
        BatchSize = _options.BatchSize,
        LearningRate = (float)_options.LearningRate,
        ReplayRatio = (float)_options.ReplayRatio,
        ClassBalancedReplay = true,
        DistillationWeight = (float)_options.DistillationWeight,
        Temperature = (float)_options.Temperature,
        Anchor = _options.Anchor switch { "ewc" => AnchorKind.Ewc, "l2sp" => AnchorKind.L2SP, _ => AnchorKind.None },
        AnchorWeight = (float)_options.AnchorWeight,
        MaxOldClassDrop = (float)_options.MaxOldClassDrop,
        MinOverallGain = (float)_options.MinOverallGain,
        RequantizeHead = true,
        TimeBudget = TimeSpan.FromSeconds(_options.TimeBudgetSeconds),
        Seed = _options.Seed,
    };

    public async Task<LearningOutcome> RunAsync(string trigger, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var data = new JsonObject { ["trigger"] = trigger };
        var served = _models.Current;
        if (served is null) return Skip("no model is served yet", data);
        var stored = served.Stored;
        data["model"] = stored.Name;
        data["base_version"] = stored.Version;
        data["base_bundle"] = stored.BundlePath;
        HeadModel head;
        try
        {
            head = _head is not null && _head.Manifest.Version == stored.Version && _head.Manifest.Name == stored.Name
                ? _head : HeadModel.Load(stored.BundlePath);
            _head = head;
        }
        catch (Exception e) when (e is LearnerException or EdgeAgent.Compression.Bundles.BundleException or IOException)
        {
            return Finish(LearningVerdict.Failed, LearningEvents.Failed, e.Message, data);
        }

        int features = head.Head.InputSize;
        var training = _reservoir.ReadLabelled(heldOut: false);
        var heldOut = _reservoir.ReadLabelled(heldOut: true);
        int stale = training.Count(s => s.Embedding.Length != features) + heldOut.Count(s => s.Embedding.Length != features);
        training = [.. training.Where(s => s.Embedding.Length == features && s.Label is not null)];
        heldOut = [.. heldOut.Where(s => s.Embedding.Length == features && s.Label is not null)];
        data["stale_samples"] = stale;
        if (training.Count == 0) return Skip($"no labelled training samples with {features}-value embeddings in the reservoir ({stale} of another model's size)", data);

        // Class order: the served labels, then labels seen for the first time (class-incremental growth).
        var labels = new List<string>(head.Labels);
        foreach (var label in training.Select(s => s.Label!).Where(l => !labels.Contains(l)).Distinct().Order(StringComparer.Ordinal)) labels.Add(label);
        var index = labels.Select((l, i) => (l, i)).ToDictionary(p => p.l, p => p.i, StringComparer.Ordinal);
        // A held-out class nobody taught cannot be learnt; judging the head on it would only add noise.
        heldOut = [.. heldOut.Where(s => index.ContainsKey(s.Label!))];
        if (heldOut.Count == 0) return Skip("no held-out labelled samples yet to judge an update on (reservoir:heldOutFraction)", data);

        var fresh = training.Where(s => s.LabelledAt > LastAcceptedLabelTime).ToList();
        var replay = training.Where(s => !(s.LabelledAt > LastAcceptedLabelTime)).ToList();
        var update = new UpdateData(
            fresh.Select(s => new LabeledEmbedding(s.Embedding, index[s.Label!])).ToList(),
            replay.Select(s => new LabeledEmbedding(s.Embedding, index[s.Label!])).ToList(),
            heldOut.Select(s => new LabeledEmbedding(s.Embedding, index[s.Label!])).ToList());
        var perClass = new JsonObject();
        foreach (var g in training.GroupBy(s => s.Label!).OrderBy(g => g.Key, StringComparer.Ordinal)) perClass[g.Key] = g.Count();
        data["per_class"] = perClass;
        data["fresh"] = fresh.Count;
        data["replay"] = replay.Count;
        data["held_out"] = heldOut.Count;
        data["new_classes"] = new JsonArray(labels.Skip(head.Labels.Count).Select(l => (JsonNode?)l).ToArray());

        UpdateResult result;
        try
        {
            result = HeadLearner.Update(head.Head, update, LearnerOptions(), cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return Finish(LearningVerdict.Abandoned, LearningEvents.Abandoned, $"stopped after {clock.Elapsed.TotalSeconds:F1} s by shutdown; {stored.Version} keeps serving", data);
        }
        var m = result.Metrics;
        data["accuracy"] = new JsonObject
        {
            ["before"] = Round(m.CurrentAccuracy), ["after"] = Round(m.CandidateAccuracy),
            ["old_before"] = Round(m.CurrentOldClassAccuracy), ["old_after"] = Round(m.CandidateOldClassAccuracy),
            ["new_after"] = Round(m.CandidateNewClassAccuracy),
        };
        data["epochs"] = m.Epochs;
        data["steps"] = m.Steps;
        data["timed_out"] = m.TimedOut;
        data["train_s"] = Math.Round(m.TrainSeconds, 3);
        if (!result.Accepted)
        {
            data["total_s"] = Math.Round(clock.Elapsed.TotalSeconds, 3);
            return Finish(LearningVerdict.Rejected, LearningEvents.Rejected,
                $"kept {stored.Version}: {result.Reason} (old classes {m.CurrentOldClassAccuracy:P1} → {m.CandidateOldClassAccuracy:P1}; {fresh.Count} new + {replay.Count} replayed samples, {m.TrainSeconds:F2} s training)", data);
        }

        string version = LocalVersion.Next(stored.Version);
        string staged = Path.Combine(_stagingDirectory, $"{stored.Name}-{version}.eab");
        try
        {
            var bytes = head.WriteUpdated(result.Head, result.QuantizedHead, labels, version, _key, _time.GetUtcNow(), $"edgeagent {Program.Version} learner");
            Directory.CreateDirectory(_stagingDirectory);
            await File.WriteAllBytesAsync(staged, bytes, CancellationToken.None).ConfigureAwait(false);
            // Past this point the update is not abandoned: installing is short and atomic, and a finished
            // training run is worth keeping even when a stop was requested meanwhile.
            var deployed = await _models.DeployAsync(staged, allowDowngrade: false, parent: stored.Version,
                reason: $"on-device update from {stored.Version}", CancellationToken.None).ConfigureAwait(false);
            data["version"] = deployed.Stored.Version;
            data["bundle"] = deployed.Stored.BundlePath;
            data["labels"] = new JsonArray(labels.Select(l => (JsonNode?)l).ToArray());
            data["sha256"] = deployed.Stored.Sha256;
        }
        catch (Exception e) when (e is LearnerException or ModelStoreException or Inference.ModelLoadException or IOException
                                   or EdgeAgent.Compression.Bundles.BundleException or UnauthorizedAccessException)
        {
            data["total_s"] = Math.Round(clock.Elapsed.TotalSeconds, 3);
            return Finish(LearningVerdict.Failed, LearningEvents.Failed, $"the accepted update could not be installed; {stored.Version} keeps serving: {e.Message}", data);
        }
        finally
        {
            try { File.Delete(staged); } catch (IOException) { }
        }
        LastAcceptedLabelTime = training.Max(s => s.LabelledAt) ?? LastAcceptedLabelTime;
        data["total_s"] = Math.Round(clock.Elapsed.TotalSeconds, 3);
        return Finish(LearningVerdict.Accepted, LearningEvents.Accepted,
            $"{stored.Version} → {version}: {result.Reason}, new classes {(m.NewClasses > 0 ? string.Join(",", labels.Skip(head.Labels.Count)) : "none")} at {m.CandidateNewClassAccuracy:P1}; {m.TrainSeconds:F2} s training, {clock.Elapsed.TotalSeconds:F2} s total", data);
    }

    private static double Round(float fraction) => Math.Round(fraction, 4);

    private static LearningOutcome Skip(string reason, JsonObject data) => new(LearningVerdict.Skipped, reason, data);

    private LearningOutcome Finish(LearningVerdict verdict, string kind, string reason, JsonObject data)
    {
        var outcome = new LearningOutcome(verdict, reason, data);
        _events.Publish(new DaemonEvent(_time.GetUtcNow(), kind, reason, outcome.ToJson()));
        return outcome;
    }
}
