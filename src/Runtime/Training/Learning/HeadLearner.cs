using System.Diagnostics;

namespace EdgeAgent.Runtime.Training;

/// <summary>
/// One on-device update of the trainable head, on backbone embeddings: grow outputs for new classes,
/// train a copy on fresh samples mixed with replayed ones under cross-entropy, distillation from the
/// current head and an anchor to its weights, requantize it per channel, and let the gate decide.
/// The current head is never modified; a rejected update returns it as it was.
/// </summary>
public static class HeadLearner
{
    public static UpdateResult Update(Network currentHead, UpdateData data, LearnerOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(currentHead);
        ArgumentNullException.ThrowIfNull(data);
        options.Validate();
        var total = Stopwatch.StartNew();
        int inputSize = currentHead.InputSize, oldClasses = currentHead.OutputSize;
        CheckSamples(data.Fresh, "fresh", inputSize);
        CheckSamples(data.Replay, "replay", inputSize);
        CheckSamples(data.HeldOut, "held-out", inputSize);
        if (data.Fresh.Count + data.Replay.Count == 0) throw new ArgumentException("an update needs fresh or replayed samples; both are empty");

        int classes = Math.Max(oldClasses, 1 + MaxLabel(data.Fresh, data.Replay, data.HeldOut));
        var random = new Random(options.Seed);
        var candidate = currentHead.Clone();
        if (classes > oldClasses) HeadGrowth.AddClasses(candidate, classes - oldClasses, random);

        ParameterAnchor? anchor = options.Anchor switch
        {
            AnchorKind.None => null,
            AnchorKind.L2SP => ParameterAnchor.Create(candidate, currentHead, AnchorKind.L2SP, options.AnchorWeight),
            AnchorKind.Ewc => ParameterAnchor.Create(candidate, currentHead, AnchorKind.Ewc, options.AnchorWeight,
                ParameterAnchor.EstimateFisher(currentHead, data.Replay.Count > 0 ? data.Replay : data.Fresh, options.FisherSamples, options.Seed)),
            _ => throw new ArgumentOutOfRangeException(nameof(options), $"unknown anchor kind {options.Anchor}"),
        };

        var train = Train(candidate, currentHead, data, options, anchor, random, cancellationToken);

        QuantizedHead? quantized = null;
        var served = candidate;
        if (options.RequantizeHead)
        {
            quantized = HeadQuantizer.Quantize(candidate);
            served = HeadQuantizer.ApplyTo(candidate, quantized);
        }

        var before = UpdateGate.Evaluate(currentHead.Clone(), data.HeldOut, oldClasses);
        var after = UpdateGate.Evaluate(served, data.HeldOut, oldClasses);
        string? rejection = options.GateEnabled ? UpdateGate.Judge(before, after, options.MinOverallGain, options.MaxOldClassDrop) : null;
        var metrics = new UpdateMetrics(data.HeldOut.Count, oldClasses, classes - oldClasses,
            before.Overall, after.Overall, before.OldClasses, after.OldClasses, after.NewClasses,
            train.Epochs, train.Steps, train.FinalLoss, train.TimedOut, train.Seconds, total.Elapsed.TotalSeconds);
        if (rejection is not null)
            return new UpdateResult(false, rejection, metrics, currentHead, null, served);
        string reason = options.GateEnabled
            ? $"held-out accuracy {before.Overall:P1} → {after.Overall:P1}, old classes {before.OldClasses:P1} → {after.OldClasses:P1}"
            : "gate disabled";
        return new UpdateResult(true, reason, metrics, served, quantized, served);
    }

    private readonly record struct TrainOutcome(int Epochs, int Steps, float FinalLoss, bool TimedOut, double Seconds);

    private static TrainOutcome Train(Network candidate, Network teacher, UpdateData data, LearnerOptions options,
        ParameterAnchor? anchor, Random random, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var replay = options.ReplayRatio > 0 || data.Fresh.Count == 0 ? data.Replay : [];
        float ratio = options.ReplayRatio;
        if (options.ClassBalancedReplay && replay.Count > 0)
        {
            var freshClasses = data.Fresh.Select(s => s.Label).ToHashSet();
            var replayClasses = replay.Select(s => s.Label).ToHashSet();
            int oldOnly = replayClasses.Count(c => !freshClasses.Contains(c));
            ratio = Math.Max(ratio, (float)oldOnly / freshClasses.Union(replayClasses).Count());
        }
        var mixer = new ReplayMixer(data.Fresh.Count, replay.Count, options.BatchSize, ratio, random);
        Optimizer optimizer = options.Optimizer == OptimizerKind.Adam
            ? new Adam(options.LearningRate, weightDecay: options.WeightDecay)
            : new Sgd(options.LearningRate, options.Momentum, options.WeightDecay);
        int inputSize = candidate.InputSize, teacherOutputs = teacher.OutputSize;
        float alpha = options.DistillationWeight;
        var input = new TrainingTensor([options.BatchSize, inputSize]);
        var labels = new int[options.BatchSize];
        // A private copy: forward passes reuse a network's buffers, and the served head may be answering
        // inference on another thread meanwhile.
        var teacherCopy = alpha > 0 ? teacher.Clone() : null;
        if (teacherCopy is not null) teacherCopy.Training = false;
        TrainingTensor? gradient = null;
        var parameters = candidate.Parameters.ToArray();
        candidate.Training = true;
        int epochs = 0, steps = 0;
        float lastLoss = float.NaN;
        bool timedOut = false;
        try
        {
            for (int epoch = 0; epoch < options.Epochs && !timedOut; epoch++)
            {
                double epochLoss = 0;
                int batches = 0;
                foreach (var batch in mixer.Epoch())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (clock.Elapsed > options.TimeBudget) { timedOut = true; break; }
                    int n = batch.Count;
                    int firstReplayed = n;
                    for (int i = 0; i < n; i++)
                    {
                        if (batch[i].Replay) firstReplayed = Math.Min(firstReplayed, i);
                        var s = batch[i].Replay ? replay[batch[i].Index] : data.Fresh[batch[i].Index];
                        s.Embedding.CopyTo(input.Data, i * inputSize);
                        labels[i] = s.Label;
                    }
                    var x = n == options.BatchSize ? input : new TrainingTensor(input.Data, [n, inputSize]);
                    ReadOnlySpan<float> teacherLogits = teacherCopy is null ? default : teacherCopy.Forward(x).Span;
                    var logits = candidate.Forward(x);
                    gradient = TrainingTensor.Ensure(ref gradient, n, candidate.OutputShape);
                    gradient.Span.Clear();
                    float loss = (1 - alpha) * SoftmaxCrossEntropy.Loss(logits, labels.AsSpan(0, n), gradient, 1 - alpha);
                    if (teacherCopy is not null)
                        loss += alpha * Distillation.Loss(logits, teacherLogits, teacherOutputs, options.Temperature, gradient, alpha,
                            options.DistillReplayOnly ? firstReplayed : 0);
                    candidate.Backward(gradient);
                    if (anchor is not null) loss += anchor.AddGradient();
                    optimizer.Step(parameters);
                    epochLoss += loss;
                    batches++;
                    steps++;
                }
                if (batches > 0) { epochs++; lastLoss = (float)(epochLoss / batches); }
            }
        }
        finally
        {
            candidate.Training = false;
        }
        return new TrainOutcome(epochs, steps, lastLoss, timedOut, clock.Elapsed.TotalSeconds);
    }

    private static void CheckSamples(IReadOnlyList<LabeledEmbedding> samples, string set, int inputSize)
    {
        for (int i = 0; i < samples.Count; i++)
        {
            var s = samples[i];
            if (s.Embedding is null || s.Embedding.Length != inputSize)
                throw new ArgumentException($"{set} sample {i} has {s.Embedding?.Length ?? 0} features, the head expects {inputSize}");
            if (s.Label < 0) throw new ArgumentException($"{set} sample {i} has the negative label {s.Label}");
        }
    }

    private static int MaxLabel(params IReadOnlyList<LabeledEmbedding>[] sets)
    {
        int max = -1;
        foreach (var set in sets) foreach (var s in set) max = Math.Max(max, s.Label);
        return max;
    }
}
