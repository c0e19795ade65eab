using System.Text.Json.Serialization;

namespace EdgeAgent.Compression.Distribution;

/// <summary>
/// Describes one file (a signed bundle or a signed delta) cut into fixed-size chunks, each named by its SHA-256,
/// so a receiver can check every chunk on arrival and resume a transfer from whatever it already holds.
/// The manifest itself is not trusted: the file's own signature is checked once it is whole.
/// </summary>
public sealed record TransferManifest
{
    public const string CurrentFormat = "edgeagent-transfer/1";
    public const int DefaultChunkBytes = 64 * 1024;
    /// <summary>Brokers commonly cap messages at 128 KB or 256 KB; larger chunks would be dropped by them.</summary>
    public const int MaxChunkBytes = 256 * 1024;
    public const long MaxFileBytes = 1L << 31;

    [JsonPropertyName("format")] public string Format { get; set; } = CurrentFormat;
    /// <summary>"bundle" (a model to install) or "delta" (trainable-layer changes from one device).</summary>
    [JsonPropertyName("kind")] public string Kind { get; set; } = TransferKinds.Bundle;
    [JsonPropertyName("sha256")] public string Sha256 { get; set; } = "";
    [JsonPropertyName("bytes")] public long Bytes { get; set; }
    [JsonPropertyName("chunk_bytes")] public int ChunkBytes { get; set; } = DefaultChunkBytes;
    [JsonPropertyName("chunks")] public string[] Chunks { get; set; } = [];
    [JsonPropertyName("name")] public string? Name { get; set; }
    [JsonPropertyName("version")] public string? Version { get; set; }
    /// <summary>For deltas: the SHA-256 of the bundle the delta was trained from.</summary>
    [JsonPropertyName("base_sha256")] public string? BaseSha256 { get; set; }
    /// <summary>For deltas: how many samples the update behind the delta saw (the federated-averaging weight).</summary>
    [JsonPropertyName("samples")] public long? Samples { get; set; }
    /// <summary>Who sent it (device id or "exporter"), for logs and events only.</summary>
    [JsonPropertyName("origin")] public string? Origin { get; set; }
    [JsonPropertyName("published_utc")] public DateTimeOffset PublishedUtc { get; set; }

    public int ChunkCount => Chunks.Length;

    public int ChunkLength(int index) =>
        (int)Math.Min(ChunkBytes, Bytes - (long)index * ChunkBytes);

    /// <summary>Throws <see cref="TransferException"/> naming the first field that is wrong.</summary>
    public void Validate()
    {
        if (Format != CurrentFormat)
            throw new TransferException($"manifest field 'format' is '{Format}', expected '{CurrentFormat}'");
        if (Kind is not (TransferKinds.Bundle or TransferKinds.Delta))
            throw new TransferException($"manifest field 'kind' is '{Kind}', expected '{TransferKinds.Bundle}' or '{TransferKinds.Delta}'");
        if (!Hex.IsSha256(Sha256))
            throw new TransferException("manifest field 'sha256' is not 64 lowercase hex digits");
        if (Bytes <= 0 || Bytes > MaxFileBytes)
            throw new TransferException($"manifest field 'bytes' is {Bytes}, expected 1..{MaxFileBytes}");
        if (ChunkBytes < 1024 || ChunkBytes > MaxChunkBytes)
            throw new TransferException($"manifest field 'chunk_bytes' is {ChunkBytes}, expected 1024..{MaxChunkBytes}");
        if (Chunks is null) throw new TransferException("manifest field 'chunks' is missing");
        long expected = (Bytes + ChunkBytes - 1) / ChunkBytes;
        if (Chunks.Length != expected)
            throw new TransferException($"manifest field 'chunks' has {Chunks.Length} entries, expected {expected} for {Bytes} bytes in {ChunkBytes}-byte chunks");
        for (int i = 0; i < Chunks.Length; i++)
            if (!Hex.IsSha256(Chunks[i]))
                throw new TransferException($"manifest field 'chunks[{i}]' is not 64 lowercase hex digits");
        if (BaseSha256 is not null && !Hex.IsSha256(BaseSha256))
            throw new TransferException("manifest field 'base_sha256' is not 64 lowercase hex digits");
        if (Kind == TransferKinds.Delta && (BaseSha256 is null || Samples is null or <= 0))
            throw new TransferException("a delta manifest needs 'base_sha256' and a positive 'samples'");
        if (Name is { Length: > 128 } || Version is { Length: > 64 } || Origin is { Length: > 128 })
            throw new TransferException("manifest field 'name', 'version' or 'origin' is too long");
    }
}

public static class TransferKinds
{
    public const string Bundle = "bundle";
    public const string Delta = "delta";
}
