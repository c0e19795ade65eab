namespace EdgeAgent.Compression.Training;

/// <summary>Training settings shared by finetuning and distillation.</summary>
public sealed class CompressionTrainingOptions
{
    public int Epochs { get; init; } = 3;
    public int BatchSize { get; init; } = 64;
    public float LearningRate { get; init; } = 1e-3f;
    public int Seed { get; init; } = 1;

    /// <summary>(steps done, total steps) after every optimizer step.</summary>
    public Action<int, int>? Progress { get; init; }

    /// <summary>(epoch, mean loss) after every epoch.</summary>
    public Action<int, float>? EpochCompleted { get; init; }

    internal void Validate()
    {
        if (Epochs <= 0) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "epochs must be positive");
        if (BatchSize <= 0) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "batch size must be positive");
        if (!(LearningRate > 0 && float.IsFinite(LearningRate))) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "learning rate must be positive");
    }

    internal int TotalSteps(int samples) => Epochs * ((samples + Math.Min(BatchSize, samples) - 1) / Math.Min(BatchSize, samples));
}
