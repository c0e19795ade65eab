namespace EdgeAgent.Compression.Distribution;

/// <summary>
/// Publishes a transfer: every chunk first, then the manifest (so a receiver that sees the manifest finds all
/// chunks retained), then clears the chunks of the manifest it replaced so the broker does not keep old files.
/// </summary>
public static class TransferPublisher
{
    public static async Task<TransferManifest?> PublishAsync(ITransferChannel channel, string prefix, TransferPackager package,
        CancellationToken cancellationToken)
    {
        var manifest = package.Manifest;
        TransferManifest? previous = await ReadManifestAsync(channel, prefix, cancellationToken).ConfigureAwait(false);
        // Chunks are independent; a few in flight keeps the link busy without unbounded buffering.
        const int inFlight = 8;
        var pending = new List<Task>(inFlight);
        for (int i = 0; i < manifest.ChunkCount; i++)
        {
            pending.Add(channel.PublishRetainedAsync(TransferTopics.Chunk(prefix, manifest.Sha256, i), package.Chunk(i), cancellationToken));
            if (pending.Count == inFlight)
            {
                await Task.WhenAll(pending).ConfigureAwait(false);
                pending.Clear();
            }
        }
        await Task.WhenAll(pending).ConfigureAwait(false);
        await channel.PublishRetainedAsync(TransferTopics.Manifest(prefix), TransferManifestJson.Serialize(manifest), cancellationToken)
            .ConfigureAwait(false);
        if (previous is not null && previous.Sha256 != manifest.Sha256)
            await ClearChunksAsync(channel, prefix, previous, cancellationToken).ConfigureAwait(false);
        return previous;
    }

    /// <summary>Removes a transfer entirely: its chunks and then its manifest.</summary>
    public static async Task ClearAsync(ITransferChannel channel, string prefix, CancellationToken cancellationToken)
    {
        var previous = await ReadManifestAsync(channel, prefix, cancellationToken).ConfigureAwait(false);
        if (previous is not null) await ClearChunksAsync(channel, prefix, previous, cancellationToken).ConfigureAwait(false);
        await channel.PublishRetainedAsync(TransferTopics.Manifest(prefix), ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
    }

    public static async Task<TransferManifest?> ReadManifestAsync(ITransferChannel channel, string prefix, CancellationToken cancellationToken)
    {
        byte[]? retained = await channel.ReadRetainedAsync(TransferTopics.Manifest(prefix), cancellationToken).ConfigureAwait(false);
        if (retained is not { Length: > 0 }) return null;
        try { return TransferManifestJson.Parse(retained); }
        catch (TransferException) { return null; } // a broken manifest has nothing we could clear
    }

    private static async Task ClearChunksAsync(ITransferChannel channel, string prefix, TransferManifest manifest, CancellationToken cancellationToken)
    {
        // An empty retained message deletes the retained message on that topic.
        var clears = new List<Task>();
        for (int i = 0; i < manifest.ChunkCount; i++)
            clears.Add(channel.PublishRetainedAsync(TransferTopics.Chunk(prefix, manifest.Sha256, i), ReadOnlyMemory<byte>.Empty, cancellationToken));
        await Task.WhenAll(clears).ConfigureAwait(false);
    }
}
