namespace EdgeAgent.Compression.Distribution;

public enum ChunkOutcome
{
    /// <summary>New, hash verified, written to disk.</summary>
    Stored,
    /// <summary>Already held: retained chunks are re-delivered on every resubscribe, so this is normal.</summary>
    Duplicate,
    /// <summary>The bytes do not hash to the manifest's entry for that index: tampered or corrupted, dropped.</summary>
    HashMismatch,
    /// <summary>The index is outside the manifest or the length is wrong for that index.</summary>
    Invalid,
}
