using EdgeAgent.Compression.Distribution;
using EdgeAgent.Exporter.Cli;

namespace EdgeAgent.Exporter.Mqtt;

/// <summary>
/// Reads a retained transfer (manifest, then chunks) back from the broker into memory, as a device would: every chunk
/// checked against the manifest's hash for it and the whole file against the manifest's hash. The manifest itself is
/// not trusted; what the file is gets decided by its signature afterwards.
/// </summary>
internal static class RetainedTransfer
{
    public static TransferManifest ParseManifest(string topic, ReadOnlySpan<byte> payload)
    {
        try
        {
            return TransferManifestJson.Parse(payload);
        }
        catch (TransferException e)
        {
            throw new CommandFailedException($"the manifest retained at {topic} is unusable: {e.Message}", e);
        }
    }

    public static async Task<byte[]> FetchAsync(BrokerChannel channel, string prefix, TransferManifest manifest, TimeSpan timeout,
        CancellationToken cancellationToken)
    {
        var topics = Enumerable.Range(0, manifest.ChunkCount).Select(i => TransferTopics.Chunk(prefix, manifest.Sha256, i)).ToList();
        var chunks = await channel.ReadRetainedTopicsAsync(TransferTopics.ChunkFilter(prefix, manifest.Sha256), topics, timeout, cancellationToken)
            .ConfigureAwait(false);
        var file = new byte[manifest.Bytes];
        for (int i = 0; i < manifest.ChunkCount; i++)
        {
            byte[] chunk = chunks[topics[i]];
            if (chunk.Length != manifest.ChunkLength(i) || Hex.Sha256(chunk) != manifest.Chunks[i])
                throw new CommandFailedException($"chunk {i} of {manifest.Sha256[..16]}… at {prefix} does not match its manifest ({chunk.Length} bytes)");
            chunk.CopyTo(file, (long)i * manifest.ChunkBytes);
        }
        if (Hex.Sha256(file) != manifest.Sha256)
            throw new CommandFailedException($"the file assembled from {prefix} has another SHA-256 than its manifest announces");
        return file;
    }
}
