namespace EdgeAgent.Compression.Signing;

/// <summary>
/// The public keys a device (or the fleet aggregator) accepts signatures from, indexed by key id.
/// </summary>
public sealed class TrustedKeySet : IDisposable
{
    private readonly Dictionary<string, BundlePublicKey> _byId = new(StringComparer.Ordinal);

    public TrustedKeySet() { }

    public TrustedKeySet(IEnumerable<BundlePublicKey> keys)
    {
        foreach (var key in keys) Add(key);
    }

    public int Count => _byId.Count;
    public IEnumerable<BundlePublicKey> Keys => _byId.Values;

    /// <summary>Adds a key; adding the same key twice is harmless.</summary>
    public void Add(BundlePublicKey key) => _byId.TryAdd(key.KeyIdHex, key);

    public bool TryGet(ReadOnlySpan<byte> keyId, out BundlePublicKey key) =>
        _byId.TryGetValue(Convert.ToHexStringLower(keyId), out key!);

    /// <summary>Every "*.pub" file in <paramref name="directory"/>; a file that is not a public key is an error.</summary>
    public static TrustedKeySet FromDirectory(string directory)
    {
        if (!Directory.Exists(directory)) throw new KeyFormatException($"{directory}: trusted key directory does not exist");
        var set = new TrustedKeySet();
        foreach (var path in Directory.EnumerateFiles(directory, "*.pub").Order(StringComparer.Ordinal))
            set.Add(BundlePublicKey.FromFile(path));
        return set;
    }

    public static TrustedKeySet FromFiles(IEnumerable<string> paths) => new(paths.Select(BundlePublicKey.FromFile));

    public void Dispose()
    {
        foreach (var key in _byId.Values) key.Dispose();
        _byId.Clear();
    }
}
