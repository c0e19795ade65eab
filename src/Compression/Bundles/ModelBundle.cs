using System.Buffers.Binary;
using System.Security.Cryptography;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Compression.Versioning;

namespace EdgeAgent.Compression.Bundles;

/// <summary>
/// A signed model bundle (.eab): manifest, model bytes and an ECDSA P-256 signature over both (and the
/// header). <see cref="Read(byte[])"/> checks structure, manifest and model hash only;
/// <see cref="Verify(TrustedKeySet)"/> also checks the signature against trusted keys. A device must
/// only ever load a model from a bundle that passed <see cref="Verify(byte[], TrustedKeySet)"/>.
/// The byte layout is in <see cref="BundleLayout"/> and docs/bundle-format.md.
/// </summary>
public sealed class ModelBundle
{
    private readonly byte[] _bytes;
    private readonly int _signedLength;

    private ModelBundle(byte[] bytes, BundleManifest manifest, byte[] manifestJson, int modelOffset, int modelLength,
                        SignatureAlgorithm algorithm, byte[] keyId, int signatureOffset, int signatureLength)
    {
        _bytes = bytes;
        Manifest = manifest;
        ManifestJson = manifestJson;
        Model = new ReadOnlyMemory<byte>(bytes, modelOffset, modelLength);
        Algorithm = algorithm;
        SignerKeyId = keyId;
        Signature = new ReadOnlyMemory<byte>(bytes, signatureOffset, signatureLength);
        _signedLength = signatureOffset;
    }

    public const int MaxManifestBytes = BundleLayout.MaxManifestBytes;
    public const long MaxModelBytes = BundleLayout.MaxModelBytes;
    /// <summary>The largest file a version-1 bundle can be; readers refuse bigger ones before reading them.</summary>
    public const long MaxBundleBytes = BundleLayout.HeaderLength + BundleLayout.MaxManifestBytes + BundleLayout.MaxModelBytes + ushort.MaxValue;

    public BundleManifest Manifest { get; }
    /// <summary>The manifest exactly as signed.</summary>
    public byte[] ManifestJson { get; }
    public ReadOnlyMemory<byte> Model { get; }
    public SignatureAlgorithm Algorithm { get; }
    public byte[] SignerKeyId { get; }
    public string SignerKeyIdHex => Convert.ToHexStringLower(SignerKeyId);
    public ReadOnlyMemory<byte> Signature { get; }
    public SemanticVersion Version => SemanticVersion.Parse(Manifest.Version);
    public SemanticVersion? ParentVersion => Manifest.ParentVersion is { } p ? SemanticVersion.Parse(p) : null;
    /// <summary>SHA-256 of the whole bundle file: how the distribution layer names it.</summary>
    public string BundleSha256 => Convert.ToHexStringLower(SHA256.HashData(_bytes));

    /// <summary>The complete bundle file.</summary>
    public ReadOnlyMemory<byte> Bytes => _bytes;

    /// <summary>
    /// Builds and signs a bundle. The model hash and length in <paramref name="manifest"/> are filled in
    /// here; everything else is validated exactly as a reader would.
    /// </summary>
    public static byte[] Create(BundleManifest manifest, ReadOnlySpan<byte> model, BundleSigningKey key)
    {
        if (model.Length == 0) throw new BundleFormatException("model", "is empty");
        if (model.Length > BundleLayout.MaxModelBytes)
            throw new BundleFormatException("model", $"{model.Length} bytes exceed the limit of {BundleLayout.MaxModelBytes}");
        manifest = manifest with { ModelSha256 = Convert.ToHexStringLower(SHA256.HashData(model)), ModelBytes = model.Length };
        ManifestValidator.Validate(manifest);
        var json = ManifestValidator.Serialize(manifest);
        if (json.Length > BundleLayout.MaxManifestBytes)
            throw new BundleFormatException("manifest", $"{json.Length} bytes exceed the limit of {BundleLayout.MaxManifestBytes}");

        int signatureLength = SignatureAlgorithms.EcdsaP256SignatureLength;
        int signedLength = BundleLayout.HeaderLength + json.Length + model.Length;
        var bytes = new byte[signedLength + signatureLength];
        BundleLayout.WriteHeader(bytes, (ushort)SignatureAlgorithm.EcdsaP256Sha256, json.Length, model.Length, signatureLength, key.KeyId);
        json.CopyTo(bytes, BundleLayout.HeaderLength);
        model.CopyTo(bytes.AsSpan(BundleLayout.HeaderLength + json.Length));
        var signature = key.Sign(bytes.AsSpan(0, signedLength));
        signature.CopyTo(bytes, signedLength);
        return bytes;
    }

    /// <summary>Reads a bundle file, refusing one larger than a bundle can be before loading it.</summary>
    public static ModelBundle ReadFile(string path)
    {
        long length;
        try { length = new FileInfo(path).Length; }
        catch (FileNotFoundException) { throw new FileNotFoundException($"{path}: no such bundle file", path); }
        if (length > MaxBundleBytes)
            throw new BundleFormatException("file", $"{path} is {length} bytes, larger than any valid bundle ({MaxBundleBytes})");
        return Read(File.ReadAllBytes(path));
    }

    /// <summary>
    /// Parses a bundle strictly: every length is checked against the data, the manifest is validated and
    /// the model hash compared. Does not check the signature (see <see cref="Verify(TrustedKeySet)"/>).
    /// </summary>
    public static ModelBundle Read(byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var span = bytes.AsSpan();
        if (span.Length < BundleLayout.HeaderLength)
        {
            if (span.Length >= 8 && !span[..8].SequenceEqual(BundleLayout.Magic))
                throw new BundleFormatException("header.magic", "not an EdgeAgent bundle (wrong magic bytes)");
            throw new BundleFormatException("header", $"truncated: {span.Length} bytes, the header alone is {BundleLayout.HeaderLength}");
        }
        if (!span[..8].SequenceEqual(BundleLayout.Magic))
            throw new BundleFormatException("header.magic", "not an EdgeAgent bundle (wrong magic bytes)");
        ushort format = BinaryPrimitives.ReadUInt16LittleEndian(span[BundleLayout.FormatVersionOffset..]);
        if (format != BundleLayout.FormatVersion)
            throw new BundleFormatException("header.formatVersion", $"format version {format} is not supported (this reader knows {BundleLayout.FormatVersion})");
        ushort algorithm = BinaryPrimitives.ReadUInt16LittleEndian(span[BundleLayout.AlgorithmOffset..]);
        if (algorithm != (ushort)SignatureAlgorithm.EcdsaP256Sha256)
            throw new BundleFormatException("header.signatureAlgorithm", $"unknown signature algorithm {algorithm}");
        uint manifestLength = BinaryPrimitives.ReadUInt32LittleEndian(span[BundleLayout.ManifestLengthOffset..]);
        if (manifestLength == 0 || manifestLength > BundleLayout.MaxManifestBytes)
            throw new BundleFormatException("header.manifestLength", $"{manifestLength} is outside 1..{BundleLayout.MaxManifestBytes}");
        ulong modelLength = BinaryPrimitives.ReadUInt64LittleEndian(span[BundleLayout.ModelLengthOffset..]);
        if (modelLength == 0 || modelLength > (ulong)BundleLayout.MaxModelBytes)
            throw new BundleFormatException("header.modelLength", $"{modelLength} is outside 1..{BundleLayout.MaxModelBytes}");
        ushort signatureLength = BinaryPrimitives.ReadUInt16LittleEndian(span[BundleLayout.SignatureLengthOffset..]);
        if (signatureLength != SignatureAlgorithms.EcdsaP256SignatureLength)
            throw new BundleFormatException("header.signatureLength", $"{signatureLength}, ECDSA P-256 signatures are {SignatureAlgorithms.EcdsaP256SignatureLength} bytes");
        ushort reserved = BinaryPrimitives.ReadUInt16LittleEndian(span[BundleLayout.ReservedOffset..]);
        if (reserved != 0) throw new BundleFormatException("header.reserved", $"must be 0, is {reserved}");
        var keyId = span.Slice(BundleLayout.KeyIdOffset, SignatureAlgorithms.KeyIdLength).ToArray();

        long manifestOffset = BundleLayout.HeaderLength;
        long modelOffset = manifestOffset + manifestLength;
        long signatureOffset = modelOffset + (long)modelLength;
        long end = signatureOffset + signatureLength;
        if (span.Length < modelOffset)
            throw Truncated("manifest", manifestOffset, manifestLength, span.Length);
        if (span.Length < signatureOffset)
            throw Truncated("model", modelOffset, (long)modelLength, span.Length);
        if (span.Length < end)
            throw Truncated("signature", signatureOffset, signatureLength, span.Length);
        if (span.Length > end)
            throw new BundleFormatException("trailer", $"{span.Length - end} unexpected bytes after the signature (bundle ends at {end})");

        var manifestJson = span.Slice((int)manifestOffset, (int)manifestLength).ToArray();
        var manifest = ManifestValidator.Parse(manifestJson);
        var model = span.Slice((int)modelOffset, (int)modelLength);
        if (manifest.ModelBytes != (long)modelLength)
            throw new BundleFormatException("manifest.modelBytes", $"says {manifest.ModelBytes} but the model section is {modelLength} bytes");
        var hash = Convert.ToHexStringLower(SHA256.HashData(model));
        if (hash != manifest.ModelSha256)
            throw new BundleFormatException("model", $"SHA-256 {hash} does not match the manifest's {manifest.ModelSha256} (corrupt model)");

        return new ModelBundle(bytes, manifest, manifestJson, (int)modelOffset, (int)modelLength,
                               (SignatureAlgorithm)algorithm, keyId, (int)signatureOffset, signatureLength);
    }

    private static BundleFormatException Truncated(string section, long offset, long length, long have) =>
        new(section, $"truncated: needs {length} bytes at offset {offset}, the data ends at {have}");

    /// <summary>
    /// Checks the signature with the trusted key named in the header; returns that key.
    /// </summary>
    public BundlePublicKey Verify(TrustedKeySet trusted)
    {
        ArgumentNullException.ThrowIfNull(trusted);
        if (!trusted.TryGet(SignerKeyId, out var key))
        {
            throw new BundleSignatureException(
                $"bundle '{Manifest.Name}' {Manifest.Version} is signed by key {SignerKeyIdHex[..16]}…, which is not among the {trusted.Count} trusted key(s)");
        }
        if (!key.Verify(_bytes.AsSpan(0, _signedLength), Signature.Span))
            throw new BundleSignatureException($"bundle '{Manifest.Name}' {Manifest.Version}: signature does not verify with key {key.Source} (tampered or corrupt)");
        return key;
    }

    /// <summary>Read and verify in one step: the only way a device should accept a bundle.</summary>
    public static ModelBundle Verify(byte[] bytes, TrustedKeySet trusted)
    {
        var bundle = Read(bytes);
        bundle.Verify(trusted);
        return bundle;
    }

    public static ModelBundle VerifyFile(string path, TrustedKeySet trusted)
    {
        var bundle = ReadFile(path);
        bundle.Verify(trusted);
        return bundle;
    }
}
