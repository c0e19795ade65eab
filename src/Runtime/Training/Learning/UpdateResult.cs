namespace EdgeAgent.Runtime.Training;

/// <summary>What one update measured; accuracies are fractions on the held-out slice.</summary>
public sealed record UpdateMetrics(
    int HeldOutSamples,
    int OldClasses,
    int NewClasses,
    float CurrentAccuracy,
    float CandidateAccuracy,
    float CurrentOldClassAccuracy,
    float CandidateOldClassAccuracy,
    float CandidateNewClassAccuracy,
    int Epochs,
    int Steps,
    float FinalLoss,
    bool TimedOut,
    double TrainSeconds,
    double TotalSeconds);

/// <summary>
/// The outcome of <see cref="HeadLearner.Update"/>. When rejected, <see cref="Head"/> is the current
/// head object itself, untouched, and <see cref="Reason"/> says why.
/// </summary>
public sealed record UpdateResult(
    bool Accepted,
    string Reason,
    UpdateMetrics Metrics,
    Network Head,
    QuantizedHead? QuantizedHead,
    Network Candidate);
