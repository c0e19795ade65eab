namespace EdgeAgent.Runtime.Training;

public enum AnchorKind
{
    /// <summary>No pull towards the previous weights.</summary>
    None,
    /// <summary>L2-SP: λ/2·Σ(θ − θ_old)² over the weights the previous head had.</summary>
    L2SP,
    /// <summary>EWC: λ/2·Σ F̂·(θ − θ_old)², F̂ the diagonal Fisher on the replay set, scaled to mean 1.</summary>
    Ewc,
}

public enum OptimizerKind { Adam, Sgd }

/// <summary>How the head learner trains and gates one update. <see cref="Validate"/> names the bad field.</summary>
public sealed record LearnerOptions
{
    public int Epochs { get; init; } = 4;
    public int BatchSize { get; init; } = 64;
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;
    public float LearningRate { get; init; } = 2e-3f;
    public float Momentum { get; init; } = 0.9f;
    public float WeightDecay { get; init; }

    /// <summary>Fraction of every batch drawn from the replay set (0 = fresh samples only).</summary>
    public float ReplayRatio { get; init; } = 0.5f;

    /// <summary>
    /// Raise the replay share to the old classes' share of all classes, so that in a class-incremental
    /// update every class gets about the same number of samples per batch (the new ones would otherwise
    /// dominate and bias the head towards them). Never lowers <see cref="ReplayRatio"/>.
    /// </summary>
    public bool ClassBalancedReplay { get; init; }

    /// <summary>α of L = (1 − α)·CE + α·T²·KL(teacher_T ‖ student_T); 0 disables distillation.</summary>
    public float DistillationWeight { get; init; }
    public float Temperature { get; init; } = 2f;

    /// <summary>
    /// Distil on replayed samples only. Right when inputs drift (domain-incremental): on the new
    /// domain the previous head's answers are what needs correcting, so matching them there would
    /// hold the update back. Class-incremental updates distil on every sample (iCaRL, LwF).
    /// </summary>
    public bool DistillReplayOnly { get; init; }

    public AnchorKind Anchor { get; init; } = AnchorKind.None;
    /// <summary>λ of the anchor term.</summary>
    public float AnchorWeight { get; init; }
    /// <summary>Samples of the replay set used to estimate the EWC Fisher.</summary>
    public int FisherSamples { get; init; } = 512;

    /// <summary>When false every candidate is accepted (baselines, forced updates).</summary>
    public bool GateEnabled { get; init; } = true;
    /// <summary>δ: the most old-class accuracy (a fraction) an accepted update may lose.</summary>
    public float MaxOldClassDrop { get; init; } = 0.05f;
    /// <summary>Overall held-out accuracy must rise by more than this (a fraction).</summary>
    public float MinOverallGain { get; init; }

    /// <summary>Quantize the candidate per output channel (s8 symmetric) before it is gated and returned.</summary>
    public bool RequantizeHead { get; init; } = true;

    /// <summary>Training stops (and the candidate is gated as it is) after this long.</summary>
    public TimeSpan TimeBudget { get; init; } = TimeSpan.FromSeconds(30);

    public int Seed { get; init; } = 1;

    public void Validate()
    {
        static void Require(bool ok, string field, string rule)
        {
            if (!ok) throw new ArgumentException($"learner option '{field}' {rule}");
        }
        Require(Epochs > 0, nameof(Epochs), "must be positive");
        Require(BatchSize > 1, nameof(BatchSize), "must be at least 2");
        Require(LearningRate > 0 && float.IsFinite(LearningRate), nameof(LearningRate), "must be a positive number");
        Require(Momentum is >= 0 and < 1, nameof(Momentum), "must be in [0, 1)");
        Require(WeightDecay >= 0, nameof(WeightDecay), "must not be negative");
        Require(ReplayRatio is >= 0 and <= 1, nameof(ReplayRatio), "must be in [0, 1]");
        Require(DistillationWeight is >= 0 and <= 1, nameof(DistillationWeight), "must be in [0, 1]");
        Require(Temperature > 0, nameof(Temperature), "must be positive");
        Require(AnchorWeight >= 0, nameof(AnchorWeight), "must not be negative");
        Require(Anchor == AnchorKind.None || AnchorWeight > 0, nameof(AnchorWeight), $"must be positive when Anchor is {Anchor}");
        Require(FisherSamples > 0, nameof(FisherSamples), "must be positive");
        Require(MaxOldClassDrop is >= 0 and <= 1, nameof(MaxOldClassDrop), "must be in [0, 1]");
        Require(MinOverallGain is >= -1 and <= 1, nameof(MinOverallGain), "must be in [-1, 1]");
        Require(TimeBudget > TimeSpan.Zero, nameof(TimeBudget), "must be positive");
    }
}
