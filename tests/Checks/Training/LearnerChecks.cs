using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Checks.Training;

/// <summary>The on-device learner: gate, class growth, replay mixing, anchors, requantization, drift.</summary>
public static class LearnerChecks
{
    private const int Features = 16;

    /// <summary>Gaussian blobs: class c centred on its own random direction, unit noise.</summary>
    private sealed class Blobs(int seed, int classes)
    {
        private readonly float[][] _centres = Enumerable.Range(0, classes).Select(c =>
        {
            var r = new Random(seed * 31 + c);
            return Enumerable.Range(0, Features).Select(_ => (float)(r.NextDouble() * 2 - 1) * 2.5f).ToArray();
        }).ToArray();

        public List<LabeledEmbedding> Draw(Random random, int perClass, params int[] classes)
        {
            var list = new List<LabeledEmbedding>();
            foreach (int c in classes)
                for (int i = 0; i < perClass; i++)
                    list.Add(new LabeledEmbedding(_centres[c].Select(m => m + Gaussian(random)).ToArray(), c));
            random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list));
            return list;
        }

        private static float Gaussian(Random r) =>
            (float)(Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble()));
    }

    private static Network TrainedHead(Blobs blobs, Random random, params int[] classes)
    {
        var head = new Network([Features], [new Dense(Features, 24), new Relu(), new Dense(24, classes.Length)]);
        head.Initialize(5);
        var data = blobs.Draw(random, 60, classes);
        var result = HeadLearner.Update(head, new UpdateData(data, [], blobs.Draw(random, 20, classes)),
            new LearnerOptions { Epochs = 20, BatchSize = 32, GateEnabled = false, RequantizeHead = false, Seed = 2 });
        return result.Head;
    }

    private static float[] Snapshot(Network n) => n.Parameters.SelectMany(p => p.Value).ToArray();

    public static void Register(List<Check> checks)
    {
        checks.Add(new("training", "learner.gate-rejects-wrong-labels-and-keeps-the-served-head", () =>
        {
            var random = new Random(1);
            var blobs = new Blobs(1, 4);
            var served = TrainedHead(blobs, random, 0, 1, 2, 3);
            var heldOut = blobs.Draw(random, 25, 0, 1, 2, 3);
            float before = UpdateGate.Evaluate(served, heldOut, 4).Overall;
            Expect.True(before > 0.8f, $"the served head works before the update ({before:P0})");
            var weights = Snapshot(served);
            // Every fresh label is shifted by one class: a confidently wrong teacher.
            var wrong = blobs.Draw(random, 50, 0, 1, 2, 3).Select(s => s with { Label = (s.Label + 1) % 4 }).ToList();
            var result = HeadLearner.Update(served, new UpdateData(wrong, [], heldOut),
                new LearnerOptions { Epochs = 15, ReplayRatio = 0, MaxOldClassDrop = 0.05f, Seed = 3 });
            Expect.True(!result.Accepted, $"an update on wrong labels must be rejected; metrics {result.Metrics}");
            Expect.True(result.Reason.Contains("accuracy"), $"the reason says what failed: {result.Reason}");
            Expect.True(ReferenceEquals(served, result.Head), "a rejected update returns the served head itself");
            Expect.True(result.QuantizedHead is null, "nothing to ship after a rejection");
            Expect.SequenceEqual<float>(weights, Snapshot(served), "served head weights after the rejected update");
            Expect.True(result.Metrics.CandidateAccuracy < before - 0.3f, $"the candidate really was worse: {result.Metrics.CandidateAccuracy:P0} vs {before:P0}");
            Expect.True(UpdateGate.Evaluate(result.Head, heldOut, 4).Overall == before, "the served answers are unchanged");
        }));

        checks.Add(new("training", "learner.class-incremental-update-grows-and-keeps-old-classes", () =>
        {
            var random = new Random(2);
            var blobs = new Blobs(2, 4);
            var served = TrainedHead(blobs, random, 0, 1);
            var weights = Snapshot(served);
            var replay = blobs.Draw(random, 40, 0, 1);
            var fresh = blobs.Draw(random, 60, 2, 3);
            var heldOut = blobs.Draw(random, 25, 0, 1, 2, 3);
            var result = HeadLearner.Update(served, new UpdateData(fresh, replay, heldOut), new LearnerOptions
            {
                Epochs = 15, BatchSize = 32, ReplayRatio = 0.5f, DistillationWeight = 0.5f, Temperature = 2f,
                Anchor = AnchorKind.L2SP, AnchorWeight = 1e-3f, MaxOldClassDrop = 0.1f, Seed = 4,
            });
            Expect.True(result.Accepted, $"a good class-incremental update is accepted: {result.Reason}; {result.Metrics}");
            Expect.Equal(4, result.Head.OutputSize, "the head grew to four outputs");
            Expect.Equal(2, result.Metrics.NewClasses, "two classes were new");
            Expect.True(result.Metrics.CandidateNewClassAccuracy > 0.8f && result.Metrics.CandidateOldClassAccuracy > 0.8f,
                $"new classes learnt and old ones kept: {result.Metrics}");
            Expect.True(result.QuantizedHead is not null && result.QuantizedHead.Weights.Count == 2, "the accepted head comes requantized");
            Expect.SequenceEqual<float>(weights, Snapshot(served), "the previous head object is untouched");
        }));

        checks.Add(new("training", "learner.time-budget-and-cancellation", () =>
        {
            var random = new Random(3);
            var blobs = new Blobs(3, 2);
            var head = TrainedHead(blobs, random, 0, 1);
            var data = new UpdateData(blobs.Draw(random, 200, 0, 1), [], blobs.Draw(random, 10, 0, 1));
            var result = HeadLearner.Update(head, data, new LearnerOptions { Epochs = 1000, TimeBudget = TimeSpan.FromMilliseconds(30), GateEnabled = false });
            Expect.True(result.Metrics.TimedOut && result.Metrics.Epochs < 1000, $"training stops at the budget: {result.Metrics}");
            using var cancelled = new CancellationTokenSource();
            cancelled.Cancel();
            Expect.Throws<OperationCanceledException>(() => HeadLearner.Update(head, data, new LearnerOptions(), cancelled.Token), "cancelled update");
            var bad = Expect.Throws<ArgumentException>(() => HeadLearner.Update(head, data, new LearnerOptions { ReplayRatio = 2 }), "bad option");
            Expect.True(bad.Message.Contains("ReplayRatio"), bad.Message);
            var wrongSize = new UpdateData([new LabeledEmbedding(new float[3], 0)], [], []);
            var size = Expect.Throws<ArgumentException>(() => HeadLearner.Update(head, wrongSize, new LearnerOptions()), "wrong embedding size");
            Expect.True(size.Message.Contains("fresh sample 0") && size.Message.Contains("16"), size.Message);
        }));

        checks.Add(new("training", "learner.replay-mixer-keeps-the-ratio", () =>
        {
            var mixer = new ReplayMixer(100, 30, 20, 0.25f, new Random(1));
            int fresh = 0, replayed = 0;
            var seenFresh = new HashSet<int>();
            foreach (var batch in mixer.Epoch())
            {
                int f = batch.Count(b => !b.Replay), r = batch.Count(b => b.Replay);
                Expect.True(batch.Count <= 20, "batch size");
                if (f == 15) Expect.Equal(5, r, "a full batch is 15 fresh + 5 replayed");
                fresh += f; replayed += r;
                foreach (var b in batch) if (!b.Replay) seenFresh.Add(b.Index);
            }
            Expect.Equal(100, fresh, "an epoch visits every fresh sample once");
            Expect.Equal(100, seenFresh.Count, "no fresh sample twice");
            Expect.True(Math.Abs(replayed - 33) <= 1, $"replayed ≈ fresh·0.25/0.75, got {replayed}");
            var onlyReplay = new ReplayMixer(0, 50, 16, 0.5f, new Random(1));
            Expect.Equal(50, onlyReplay.Epoch().Sum(b => b.Count), "without fresh samples an epoch is one pass over replay");
        }));

        checks.Add(new("training", "learner.l2sp-and-ewc-anchor-gradients", () =>
        {
            var random = new Random(4);
            var blobs = new Blobs(4, 3);
            var previous = TrainedHead(blobs, random, 0, 1);
            var fisher = ParameterAnchor.EstimateFisher(previous, blobs.Draw(random, 30, 0, 1), 64, 1);
            double mean = fisher.Values.Sum(f => f.Sum(v => (double)v)) / fisher.Values.Sum(f => f.Length);
            Expect.True(Math.Abs(mean - 1) < 1e-3 && fisher.Values.All(f => f.All(v => v >= 0)), $"Fisher is non-negative with mean 1 (mean {mean})");
            foreach (var kind in new[] { AnchorKind.L2SP, AnchorKind.Ewc })
            {
                var candidate = previous.Clone();
                HeadGrowth.AddClasses(candidate, 1, new Random(2));
                foreach (var p in candidate.Parameters) for (int i = 0; i < p.Length; i++) p.Value[i] += (float)(random.NextDouble() - 0.5) * 0.2f;
                var anchor = ParameterAnchor.Create(candidate, previous, kind, 0.7f, fisher);
                candidate.ZeroGrad();
                anchor.AddGradient();
                var last = (Dense)candidate.Layers[^1];
                for (int i = 24 * 2; i < 24 * 3; i++) Expect.Equal(0f, last.Weight.Grad[i], $"{kind}: the grown row is not anchored");
                foreach (var p in candidate.Parameters)
                    for (int i = 0; i < Math.Min(p.Length, 5); i++)
                    {
                        float keep = p.Value[i];
                        p.Value[i] = keep + 1e-2f; var saved = p.Grad[i];
                        float up = Value(anchor, candidate);
                        p.Value[i] = keep - 1e-2f;
                        float down = Value(anchor, candidate);
                        p.Value[i] = keep;
                        float numeric = (up - down) / 2e-2f;
                        Expect.True(MathF.Abs(numeric - saved) < 2e-3f + 2e-2f * MathF.Abs(numeric), $"{kind} anchor d/d{p.Name}[{i}]: {saved} vs {numeric}");
                    }
            }
        }));

        checks.Add(new("training", "learner.per-channel-requantization", () =>
        {
            var head = new Network([8], [new Dense(8, 3)]);
            head.Initialize(6);
            var w = ((Dense)head.Layers[0]).Weight.Value;
            for (int i = 8; i < 16; i++) w[i] *= 100f; // one channel far larger than the others
            var q = HeadQuantizer.Quantize(head);
            var qw = q.Weights.Single();
            Expect.Equal(3, qw.Scales.Length, "one scale per output channel");
            for (int c = 0; c < 3; c++)
            {
                Expect.True(qw.Values.Skip(c * 8).Take(8).Any(v => Math.Abs((int)v) == 127), $"channel {c} uses the full range");
                for (int i = c * 8; i < c * 8 + 8; i++)
                    Expect.True(MathF.Abs(qw.Dequantize(i) - w[i]) <= qw.Scales[c] / 2 + 1e-6f, $"weight {i} within half a step");
            }
            Expect.True(qw.Values.All(v => v >= -127), "−128 is never used");
            var applied = HeadQuantizer.ApplyTo(head, q);
            Expect.Equal(qw.Dequantize(9), ((Dense)applied.Layers[0]).Weight.Value[9], "ApplyTo writes the dequantized weights");
        }));

        checks.Add(new("training", "drift.psi-separates-shifted-from-same-distribution", () =>
        {
            var random = new Random(5);
            var blobs = new Blobs(5, 2);
            var calibration = blobs.Draw(random, 300, 0, 1).Select(s => s.Embedding).ToList();
            var monitor = PopulationStability.Fit(calibration);
            var same = monitor.Measure(blobs.Draw(random, 200, 0, 1).Select(s => s.Embedding).ToList());
            Expect.True(same.MeanPsi < 0.1 && same.Level == DriftLevel.None, $"same distribution: PSI {same.MeanPsi:F3}");
            var shifted = monitor.Measure(blobs.Draw(random, 200, 0, 1).Select(s => s.Embedding.Select(v => v * 1.5f + 1f).ToArray()).ToList());
            Expect.True(shifted.MeanPsi > 0.25 && shifted.Level == DriftLevel.Significant, $"scaled and offset inputs: PSI {shifted.MeanPsi:F3}");
            var oneFeature = monitor.Measure(blobs.Draw(random, 200, 0, 1).Select(s => { var e = (float[])s.Embedding.Clone(); e[7] += 5f; return e; }).ToList());
            Expect.Equal(7, oneFeature.MaxFeature, "the drifting feature is named");
            var round = new PopulationStability(monitor.Edges, monitor.Expected).Measure(calibration);
            Expect.True(round.MeanPsi < 1e-9, $"the calibration set has no drift against itself: {round.MeanPsi}");
        }));
    }

    private static float Value(ParameterAnchor anchor, Network candidate)
    {
        var saved = candidate.Parameters.Select(p => p.Grad.ToArray()).ToArray();
        float v = anchor.AddGradient();
        int k = 0;
        foreach (var p in candidate.Parameters) saved[k++].CopyTo(p.Grad, 0);
        return v;
    }
}
