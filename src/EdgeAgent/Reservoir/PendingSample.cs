namespace EdgeAgent.Daemon.Reservoir;

/// <summary>
/// A window the reservoir decided to keep, on its way from the inference loop to the writer. Mutable and
/// recycled through <see cref="PendingSamplePool"/>: the buffers are sized for one model's window and embedding.
/// </summary>
internal sealed class PendingSample(int windowLength, int embeddingLength)
{
    public float[] Window { get; } = new float[windowLength];
    public float[] Embedding { get; } = new float[embeddingLength];
    public int Slot { get; private set; }
    public long Sid { get; private set; }
    /// <summary>Windows the reservoir had been offered when this one was (Algorithm R's n): stored with the sample.</summary>
    public long Seen { get; private set; }
    public ReservoirOffer Offer { get; private set; }
    public DateTimeOffset StoredAt { get; private set; }

    public void Fill(int slot, long sid, long seen, in ReservoirOffer offer, ReadOnlySpan<float> window, ReadOnlySpan<float> embedding, DateTimeOffset storedAt)
    {
        if (window.Length != Window.Length || embedding.Length != Embedding.Length)
            throw new ArgumentException($"pending sample holds {Window.Length} window and {Embedding.Length} embedding values, got {window.Length} and {embedding.Length}");
        window.CopyTo(Window);
        embedding.CopyTo(Embedding);
        Slot = slot;
        Sid = sid;
        Seen = seen;
        Offer = offer;
        StoredAt = storedAt;
    }
}
