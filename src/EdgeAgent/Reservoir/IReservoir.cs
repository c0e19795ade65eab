namespace EdgeAgent.Daemon.Reservoir;

/// <summary>
/// The bounded on-disk memory of what the device has seen, for on-device learning: an Algorithm R sample of
/// the unlabelled stream and a class-balanced set of labelled samples, a fraction of which is held out for
/// evaluating candidate models. Survives <c>kill -9</c>: at most the sample being written is lost.
/// </summary>
public interface IReservoir
{
    ReservoirStats GetStats();

    /// <summary>
    /// The counts the daemon's status reports, as a value: unlike <see cref="GetStats"/> (a record, a copy of the
    /// per-class counts, the file sizes), nothing is allocated, because the retained status asks every minute.
    /// </summary>
    ReservoirCounters GetCounters()
    {
        var s = GetStats();
        return new ReservoirCounters(s.Unlabelled, s.Labelled, s.Seen, s.Writes, s.WriteAllocatedBytes);
    }

    /// <summary>
    /// Offers one inferred window (called for every window by the inference loop). The reservoir remembers it
    /// as the latest window, so a label can be attached to it, and keeps it with the probability Algorithm R
    /// gives; only a kept window is copied, and the disk write happens on the reservoir's own writer, so the
    /// call is cheap and allocation-free in steady state.
    /// </summary>
    void Offer(in ReservoirOffer offer, ReadOnlySpan<float> window, ReadOnlySpan<float> embedding);

    /// <summary>Labels the latest offered window (teach button, <c>label</c> without a sample id); returns its sample id.</summary>
    long LabelLatest(string label);

    /// <summary>Labels a stored sample by id; false when it is not (or no longer) stored.</summary>
    bool Label(long sampleId, string label);

    /// <summary>Labelled samples for training (<paramref name="heldOut"/> false) or evaluation (true).</summary>
    IReadOnlyList<ReservoirSample> ReadLabelled(bool heldOut, int max = int.MaxValue);

    /// <summary>Unlabelled samples (for drift statistics), newest first.</summary>
    IReadOnlyList<ReservoirSample> ReadUnlabelled(int max = int.MaxValue);

    /// <summary>Labels added since the reservoir was opened; the learner compares it with its last run.</summary>
    long LabelsAdded { get; }

    /// <summary>Verifies the database against its own invariants; the list of problems is empty when consistent.</summary>
    IReadOnlyList<string> CheckConsistency();
}

/// <summary>What the inference loop knows about a window it offers to the reservoir.</summary>
public readonly record struct ReservoirOffer(
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    string ModelVersion,
    int Channels,
    string? Prediction,
    float Score);

/// <summary>A stored sample.</summary>
public sealed record ReservoirSample(
    long Id,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    DateTimeOffset StoredAt,
    string ModelVersion,
    int Channels,
    float[] Window,
    float[] Embedding,
    string? Label,
    DateTimeOffset? LabelledAt,
    bool HeldOut);

/// <summary>The reservoir's counts in the daemon's status; see <see cref="ReservoirStats"/> for their meaning.</summary>
public readonly record struct ReservoirCounters(long Unlabelled, long Labelled, long Seen, long Writes, long WriteAllocatedBytes);

/// <param name="Writes">Unlabelled windows written since the reservoir was opened.</param>
/// <param name="WriteAllocatedBytes">Managed bytes those writes allocated on the writer's thread (LiteDB's transactions).</param>
public sealed record ReservoirStats(
    long Unlabelled,
    long Labelled,
    long HeldOut,
    long Seen,
    long SizeBytes,
    long QuotaBytes,
    IReadOnlyDictionary<string, long> PerClass,
    long Dropped,
    long Writes = 0,
    long WriteAllocatedBytes = 0);
