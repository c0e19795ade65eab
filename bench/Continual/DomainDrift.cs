using System.Diagnostics;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Bench.Continual;

internal sealed record DriftRow(string Stage, float AccuracyOurs, float AccuracyNoUpdates, float AccuracyRegimeA, double Psi, string Note);

/// <summary>
/// Domain-incremental sensor drift: a Conv1d backbone and head are trained on regime A, the backbone
/// quantized to int8 and frozen. The machine then changes regime (faster, sensor remounted, gains and a
/// bias): labelled windows from the new regime arrive in rounds and the gated learner updates the head,
/// against the same head never updated. Drift is reported as embedding PSI against A's calibration.
/// </summary>
internal sealed class DomainDrift(TextWriter log)
{
    public static readonly Regime A = new("A", 25, 0, [1, 1, 1], [0, 0, 0], 0.15);
    public static readonly Regime B = new("B", 32, 35, [1.4, 0.8, 1.2], [0.3, -0.2, 0.5], 0.2);

    public const int Rounds = 3;

    public static Network BuildModel() => new([VibrationSource.Axes, VibrationSource.Window],
    [
        new Conv1d(3, 16, 9, stride: 2, pad: 4), new BatchNorm(16), new Relu(),
        new Conv1d(16, 32, 9, stride: 2, pad: 4), new BatchNorm(32), new Relu(),
        new Conv1d(32, 64, 9, stride: 2, pad: 4), new Relu(),
        new GlobalAvgPool(), new Flatten(),
        new Dense(64, 32), new Relu(), new Dense(32, VibrationSource.States),
    ]);

    public const int HeadStart = 10;

    public List<DriftRow> Run(int seed, LearnerOptions options, out List<string> decisions)
    {
        decisions = [];
        var source = new VibrationSource(seed);
        var (xa, ya) = source.Batch(150, A);
        var model = BuildModel();
        model.Initialize(seed);
        var clock = Stopwatch.StartNew();
        Trainer.Fit(model, new TrainingSet(xa, model.InputShape, ya), new TrainerOptions { Epochs = 12, BatchSize = 32, Seed = seed }, new Adam(3e-3f));
        log.WriteLine($"drift: model trained on regime A ({ya.Length} windows) in {clock.Elapsed.TotalSeconds:F1} s");
        var (floatBackbone, head) = model.Split(HeadStart);
        var backbone = Int8Backbone.Quantize(floatBackbone, xa, 256);

        List<LabeledEmbedding> Embed((float[] X, int[] Y) set)
        {
            var e = backbone.Embed(set.X, set.Y.Length);
            int d = backbone.EmbeddingSize;
            return set.Y.Select((y, i) => new LabeledEmbedding(e.AsSpan(i * d, d).ToArray(), y)).ToList();
        }

        var calibration = Embed((xa, ya));
        var psiMonitor = PopulationStability.Fit(calibration.Select(s => s.Embedding).ToList());
        var testA = Embed(source.Batch(100, A));
        var testB = Embed(source.Batch(100, B));
        double psiA = psiMonitor.Measure(testA.Select(s => s.Embedding).ToList()).MeanPsi;
        double psiB = psiMonitor.Measure(testB.Select(s => s.Embedding).ToList()).MeanPsi;
        float Acc(Network h, List<LabeledEmbedding> set) => UpdateGate.Evaluate(h, set, int.MaxValue).Overall;

        var rows = new List<DriftRow>
        {
            new("before drift (regime A)", Acc(head, testA), Acc(head, testA), Acc(head, testA), psiA, "served head on regime A"),
            new("right after drift (regime B)", Acc(head, testB), Acc(head, testB), Acc(head, testA), psiB, $"PSI {psiB:F2} vs {psiA:F2} before: drift detected"),
        };

        // The reservoir holds regime A samples; each round brings 40 labelled B windows per state.
        var reservoir = new ClassBalancedReservoir(2000, seed);
        foreach (var s in calibration) reservoir.Offer(s);
        var heldOut = Embed(source.Batch(25, A)).Concat(Embed(source.Batch(25, B))).ToList();
        var oracleData = Embed(source.Batch(120, B));
        var oracle = HeadLearner.Update(head, new UpdateData(oracleData, [], heldOut), options with { GateEnabled = false, Epochs = 30, DistillationWeight = 0, Anchor = AnchorKind.None });
        log.WriteLine($"  drift: a head trained on {oracleData.Count} regime-B windows alone reaches {Acc(oracle.Head, testB):P1} on B (the frozen backbone's ceiling), {Acc(oracle.Head, testA):P1} on A");
        var served = head;
        for (int round = 1; round <= Rounds; round++)
        {
            var fresh = Embed(source.Batch(40, B));
            var result = HeadLearner.Update(served, new UpdateData(fresh, reservoir.Samples, heldOut), options with { Seed = options.Seed + round });
            decisions.Add($"round {round}: {(result.Accepted ? "accepted" : "REJECTED")} ({result.Reason})");
            if (result.Accepted) served = result.Head;
            foreach (var s in fresh) reservoir.Offer(s);
            var newHeld = Embed(source.Batch(5, B));
            heldOut.AddRange(newHeld);
            rows.Add(new($"after update round {round}", Acc(served, testB), Acc(head, testB), Acc(served, testA), psiB,
                result.Accepted ? "accepted" : "rejected: " + result.Reason));
            log.WriteLine($"  drift round {round}: {decisions[^1]}; B accuracy {rows[^1].AccuracyOurs:P1}, A accuracy {rows[^1].AccuracyRegimeA:P1}");
        }
        return rows;
    }
}
