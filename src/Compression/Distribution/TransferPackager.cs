namespace EdgeAgent.Compression.Distribution;

/// <summary>Cuts a file into chunks and describes it with a <see cref="TransferManifest"/>; the sending side.</summary>
public sealed class TransferPackager
{
    private readonly byte[] _file;

    public TransferManifest Manifest { get; }

    private TransferPackager(byte[] file, TransferManifest manifest)
    {
        _file = file;
        Manifest = manifest;
    }

    /// <summary>
    /// The whole file is held in memory: bundles and deltas are a few MB, and publishing reads every chunk anyway.
    /// <paramref name="describe"/> fills the kind-specific fields (name, version, base, samples).
    /// </summary>
    public static TransferPackager FromBytes(byte[] file, int chunkBytes = TransferManifest.DefaultChunkBytes,
        Func<TransferManifest, TransferManifest>? describe = null, TimeProvider? clock = null)
    {
        if (file.Length == 0) throw new TransferException("cannot transfer an empty file");
        if (chunkBytes < 1024 || chunkBytes > TransferManifest.MaxChunkBytes)
            throw new TransferException($"chunk size {chunkBytes} is outside 1024..{TransferManifest.MaxChunkBytes} bytes");
        int count = (int)((file.LongLength + chunkBytes - 1) / chunkBytes);
        var chunks = new string[count];
        for (int i = 0; i < count; i++)
        {
            int start = i * chunkBytes;
            chunks[i] = Hex.Sha256(file.AsSpan(start, Math.Min(chunkBytes, file.Length - start)));
        }
        var manifest = new TransferManifest
        {
            Sha256 = Hex.Sha256(file),
            Bytes = file.LongLength,
            ChunkBytes = chunkBytes,
            Chunks = chunks,
            PublishedUtc = (clock ?? TimeProvider.System).GetUtcNow(),
        };
        if (describe is not null) manifest = describe(manifest);
        manifest.Validate();
        return new TransferPackager(file, manifest);
    }

    public static TransferPackager FromFile(string path, int chunkBytes = TransferManifest.DefaultChunkBytes,
        Func<TransferManifest, TransferManifest>? describe = null)
    {
        if (!File.Exists(path)) throw new TransferException($"file '{path}' does not exist");
        return FromBytes(File.ReadAllBytes(path), chunkBytes, describe);
    }

    public ReadOnlyMemory<byte> Chunk(int index)
    {
        if ((uint)index >= (uint)Manifest.ChunkCount)
            throw new ArgumentOutOfRangeException(nameof(index), $"chunk {index} is outside 0..{Manifest.ChunkCount - 1}");
        int start = index * Manifest.ChunkBytes;
        return _file.AsMemory(start, Manifest.ChunkLength(index));
    }
}
