using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Compression.Training;

/// <summary>
/// Recovers accuracy after pruning or low-rank factorisation: a few epochs of cross-entropy training
/// of the whole model with Adam at a small learning rate, pruned zeros held at zero throughout.
/// </summary>
public static class Finetuner
{
    public static FinetuneResult Run(TrainableModel model, TrainingSet data, CompressionTrainingOptions options)
    {
        options.Validate();
        var network = model.Network;
        var mask = PruningMask.Capture(network);
        int total = options.TotalSteps(data.Count);
        var report = Trainer.Fit(network, data, new TrainerOptions
        {
            Epochs = options.Epochs,
            BatchSize = options.BatchSize,
            Seed = options.Seed,
            EpochCompleted = options.EpochCompleted,
            StepCompleted = step =>
            {
                mask.Apply();
                options.Progress?.Invoke(step, total);
            },
        }, new Adam(options.LearningRate));
        return new FinetuneResult(report, mask.MaskedCount);
    }
}

/// <summary>The training run and how many pruned weights were held at zero.</summary>
public sealed record FinetuneResult(TrainingReport Training, long MaskedWeights);
