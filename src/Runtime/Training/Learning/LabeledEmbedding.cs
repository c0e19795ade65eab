namespace EdgeAgent.Runtime.Training;

/// <summary>
/// One sample as the learner sees it: the frozen backbone's output for an input (computed once and
/// kept in the reservoir) and its class index in the head's output order.
/// </summary>
public readonly record struct LabeledEmbedding(float[] Embedding, int Label);

/// <summary>The samples one update works on, as the daemon takes them from its reservoir.</summary>
/// <param name="Fresh">Labelled samples that arrived since the last accepted update.</param>
/// <param name="Replay">Class-balanced samples from the reservoir (old classes; may include fresh ones).</param>
/// <param name="HeldOut">The gate's evaluation slice, never trained on: old and new classes.</param>
public sealed record UpdateData(
    IReadOnlyList<LabeledEmbedding> Fresh,
    IReadOnlyList<LabeledEmbedding> Replay,
    IReadOnlyList<LabeledEmbedding> HeldOut);
