using System.Diagnostics;

namespace EdgeAgent.Runtime.Training;

/// <summary>Options of <see cref="Trainer.Fit"/>.</summary>
public sealed class TrainerOptions
{
    public int Epochs { get; init; } = 5;
    public int BatchSize { get; init; } = 32;
    public int Seed { get; init; } = 1;

    /// <summary>Stop early (between batches) once this much time has passed; null = no limit.</summary>
    public TimeSpan? TimeBudget { get; init; }

    /// <summary>
    /// Extra loss terms on each batch, e.g. distillation from a teacher: given the logits, the sample
    /// indices of the batch and the logits' gradient, adds to the gradient and returns the term's value.
    /// </summary>
    public Func<TrainingTensor, ReadOnlySpan<int>, TrainingTensor, float>? ExtraLoss { get; init; }

    /// <summary>Weight of cross-entropy against the true labels (0 for pure distillation).</summary>
    public float CrossEntropyWeight { get; init; } = 1f;

    /// <summary>Called after every epoch with (epoch, mean loss).</summary>
    public Action<int, float>? EpochCompleted { get; init; }

    /// <summary>
    /// Called after every optimizer step with the steps done so far: constraints that must hold
    /// between steps (pruned weights staying zero) and progress reporting hook in here.
    /// </summary>
    public Action<int>? StepCompleted { get; init; }
}

/// <summary>What a training run did.</summary>
public sealed record TrainingReport(int Epochs, int Steps, IReadOnlyList<float> EpochLosses, double Seconds, bool StoppedEarly)
{
    public float FinalLoss => EpochLosses.Count == 0 ? float.NaN : EpochLosses[^1];
}

/// <summary>
/// Mini-batch training of a whole network on a labelled set: shuffled each epoch with a fixed seed,
/// cross-entropy plus optional extra terms, one optimizer step per batch. Used by the bench models,
/// <c>exporter finetune</c>/<c>distill</c> and as the reference loop the head learner specialises.
/// </summary>
public static class Trainer
{
    public static TrainingReport Fit(Network network, TrainingSet data, TrainerOptions options, Optimizer optimizer,
        CancellationToken cancellationToken = default)
    {
        if (!data.SampleShape.AsSpan().SequenceEqual(network.InputShape))
            throw new ArgumentException($"training data samples are {TrainingTensor.Describe(data.SampleShape)}, the network expects {TrainingTensor.Describe(network.InputShape)}");
        if (data.Count == 0) throw new ArgumentException("training data is empty");
        if (options.BatchSize <= 0 || options.Epochs <= 0) throw new ArgumentException("epochs and batch size must be positive");
        var clock = Stopwatch.StartNew();
        var random = new Random(options.Seed);
        var order = Enumerable.Range(0, data.Count).ToArray();
        int batchSize = Math.Min(options.BatchSize, data.Count);
        var input = new float[batchSize * data.SampleSize];
        var labels = new int[batchSize];
        TrainingTensor? gradient = null;
        var losses = new List<float>();
        int steps = 0;
        bool stopped = false;
        network.Training = true;
        try
        {
            for (int epoch = 0; epoch < options.Epochs && !stopped; epoch++)
            {
                random.Shuffle(order);
                double epochLoss = 0;
                int batches = 0;
                for (int start = 0; start < data.Count; start += batchSize)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    if (options.TimeBudget is { } budget && clock.Elapsed > budget) { stopped = true; break; }
                    int n = Math.Min(batchSize, data.Count - start);
                    var indices = order.AsSpan(start, n);
                    for (int i = 0; i < n; i++)
                    {
                        data.Sample(indices[i]).CopyTo(input.AsSpan(i * data.SampleSize));
                        labels[i] = data.Labels[indices[i]];
                    }
                    var logits = network.Forward(new TrainingTensor(input, [n, .. network.InputShape]));
                    gradient = TrainingTensor.Ensure(ref gradient, n, network.OutputShape);
                    gradient.Span.Clear();
                    float loss = 0;
                    if (options.CrossEntropyWeight != 0)
                        loss += options.CrossEntropyWeight * SoftmaxCrossEntropy.Loss(logits, labels.AsSpan(0, n), gradient, options.CrossEntropyWeight);
                    if (options.ExtraLoss is not null) loss += options.ExtraLoss(logits, indices, gradient);
                    network.Backward(gradient);
                    optimizer.Step(network.Parameters);
                    epochLoss += loss;
                    batches++;
                    steps++;
                    options.StepCompleted?.Invoke(steps);
                }
                if (batches > 0)
                {
                    losses.Add((float)(epochLoss / batches));
                    options.EpochCompleted?.Invoke(epoch, losses[^1]);
                }
            }
        }
        finally
        {
            network.Training = false;
        }
        return new TrainingReport(losses.Count, steps, losses, clock.Elapsed.TotalSeconds, stopped);
    }
}
