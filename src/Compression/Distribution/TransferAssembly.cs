using Microsoft.Win32.SafeHandles;

namespace EdgeAgent.Compression.Distribution;

/// <summary>
/// Reassembles one file from chunks that may arrive in any order, more than once, or across restarts.
/// State lives in <c>ROOT/&lt;sha256&gt;/</c>: the manifest, the file being filled (preallocated), and a map with one
/// byte per chunk. The map is written after the chunk's data and neither is fsynced per chunk: a crash can only
/// lose marks (the chunk is fetched again) or, on power loss, leave a marked chunk with stale data, which the
/// whole-file hash in <see cref="TryComplete"/> catches; the bad chunks are then unmarked and fetched again.
/// </summary>
public sealed class TransferAssembly : IDisposable
{
    private const string ManifestFile = "manifest.json";
    private const string DataFile = "file.part";
    private const string MapFile = "received.map";

    private readonly object _gate = new();
    private readonly SafeFileHandle _data;
    private readonly SafeFileHandle _map;
    private readonly bool[] _received;
    private int _missing;
    private bool _disposed;

    public TransferManifest Manifest { get; }
    public string Directory { get; }
    public string DataPath => Path.Combine(Directory, DataFile);

    public int Missing { get { lock (_gate) return _missing; } }
    public int Received => Manifest.ChunkCount - Missing;
    public bool AllChunksReceived => Missing == 0;

    private TransferAssembly(string directory, TransferManifest manifest)
    {
        Directory = directory;
        Manifest = manifest;
        _received = new bool[manifest.ChunkCount];
        System.IO.Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, ManifestFile), TransferManifestJson.Serialize(manifest));
        _data = File.OpenHandle(DataPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        if (RandomAccess.GetLength(_data) != manifest.Bytes) RandomAccess.SetLength(_data, manifest.Bytes);
        _map = File.OpenHandle(Path.Combine(directory, MapFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Read);
        var marks = new byte[manifest.ChunkCount];
        long mapLength = RandomAccess.GetLength(_map);
        if (mapLength == marks.Length) RandomAccess.Read(_map, marks, 0);
        else RandomAccess.SetLength(_map, marks.Length);
        for (int i = 0; i < marks.Length; i++) _received[i] = marks[i] == 1;
        _missing = _received.Count(r => !r);
    }

    /// <summary>
    /// Opens the transfer of <paramref name="manifest"/>'s file under <paramref name="root"/>, picking up any chunks
    /// received before a disconnect or restart. A stored manifest that differs (same hash, other chunking) restarts.
    /// </summary>
    public static TransferAssembly OpenOrCreate(string root, TransferManifest manifest)
    {
        manifest.Validate();
        string directory = Path.Combine(root, manifest.Sha256);
        string manifestPath = Path.Combine(directory, ManifestFile);
        if (File.Exists(manifestPath))
        {
            TransferManifest? stored = null;
            try { stored = TransferManifestJson.Parse(File.ReadAllBytes(manifestPath)); }
            catch (TransferException) { }
            if (stored is null || stored.ChunkBytes != manifest.ChunkBytes || !stored.Chunks.SequenceEqual(manifest.Chunks))
                System.IO.Directory.Delete(directory, recursive: true);
        }
        return new TransferAssembly(directory, manifest);
    }

    /// <summary>Lists the hashes of transfers held under <paramref name="root"/> (complete or not).</summary>
    public static IReadOnlyList<string> List(string root) =>
        System.IO.Directory.Exists(root)
            ? System.IO.Directory.GetDirectories(root).Select(Path.GetFileName).Where(Hex.IsSha256).Select(n => n!).ToList()
            : [];

    /// <summary>Deletes every transfer under <paramref name="root"/> except <paramref name="keep"/>.</summary>
    public static void Prune(string root, params string[] keep)
    {
        foreach (string sha in List(root))
            if (!keep.Contains(sha)) System.IO.Directory.Delete(Path.Combine(root, sha), recursive: true);
    }

    public bool Has(int index)
    {
        lock (_gate) return (uint)index < (uint)_received.Length && _received[index];
    }

    public ChunkOutcome Accept(int index, ReadOnlySpan<byte> chunk)
    {
        if ((uint)index >= (uint)Manifest.ChunkCount || chunk.Length != Manifest.ChunkLength(index)) return ChunkOutcome.Invalid;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_received[index]) return ChunkOutcome.Duplicate;
        }
        if (Hex.Sha256(chunk) != Manifest.Chunks[index]) return ChunkOutcome.HashMismatch;
        lock (_gate)
        {
            if (_received[index]) return ChunkOutcome.Duplicate;
            RandomAccess.Write(_data, chunk, (long)index * Manifest.ChunkBytes);
            RandomAccess.Write(_map, [1], index);
            _received[index] = true;
            _missing--;
            return ChunkOutcome.Stored;
        }
    }

    public IReadOnlyList<int> MissingChunks()
    {
        lock (_gate) return Enumerable.Range(0, _received.Length).Where(i => !_received[i]).ToList();
    }

    /// <summary>
    /// When every chunk is in, checks the whole file against the manifest's hash (after an fsync, so what was
    /// checked is what is on disk). On a mismatch the chunks whose bytes are wrong are unmarked and false returned.
    /// </summary>
    public bool TryComplete()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_missing != 0) return false;
            RandomAccess.FlushToDisk(_data);
            if (Hex.Sha256File(DataPath) == Manifest.Sha256) return true;
            var buffer = new byte[Manifest.ChunkBytes];
            for (int i = 0; i < _received.Length; i++)
            {
                var span = buffer.AsSpan(0, Manifest.ChunkLength(i));
                RandomAccess.Read(_data, span, (long)i * Manifest.ChunkBytes);
                if (Hex.Sha256(span) == Manifest.Chunks[i]) continue;
                _received[i] = false;
                _missing++;
                RandomAccess.Write(_map, [0], i);
            }
            if (_missing == 0)
                throw new TransferException($"transfer {Manifest.Sha256}: every chunk matches its hash but the file does not; the manifest is inconsistent");
            return false;
        }
    }

    /// <summary>Closes and deletes the transfer's directory (after install, rejection or supersession).</summary>
    public void Discard()
    {
        Dispose();
        if (System.IO.Directory.Exists(Directory)) System.IO.Directory.Delete(Directory, recursive: true);
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _data.Dispose();
            _map.Dispose();
        }
    }
}
