using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Compression.Versioning;
using ZstdSharp;

namespace EdgeAgent.Compression.Deltas;

/// <summary>
/// The signed difference between two versions of a model's trainable tensors: sparse integer
/// differences (int8 weights, int32 biases) and changed float values, zstd-compressed, bound to the
/// base model's SHA-256. A device publishes one after an accepted on-device update; the fleet
/// aggregator averages them (<see cref="FederatedAverage"/>).
/// <code>
///  0  8  magic 89 'E' 'A' 'D' 0D 0A 1A 0A
///  8  2  format version (1)
/// 10  2  signature algorithm (1 = ECDSA P-256 / SHA-256)
/// 12  4  metadata length M (JSON, ≤ 64 KiB)
/// 16  4  compressed payload length P
/// 20  4  uncompressed payload length R
/// 24  2  signature length S
/// 26  2  reserved, 0
/// 28 32  signer key id
/// 60     M bytes metadata, P bytes zstd payload, S bytes signature over everything before it
/// </code>
/// </summary>
public sealed class WeightDelta
{
    public const int HeaderLength = 60;
    public const ushort FormatVersion = 1;
    public const int MaxMetadataBytes = 64 * 1024;
    public const int MaxPayloadBytes = 1 << 30;
    private static ReadOnlySpan<byte> Magic => [0x89, (byte)'E', (byte)'A', (byte)'D', 0x0D, 0x0A, 0x1A, 0x0A];

    private WeightDelta(DeltaMetadata metadata, IReadOnlyList<TensorDelta> tensors, byte[]? keyId, byte[]? signedBytes, int signedLength)
    {
        Metadata = metadata;
        Tensors = tensors;
        SignerKeyId = keyId;
        _bytes = signedBytes;
        _signedLength = signedLength;
    }

    private readonly byte[]? _bytes;
    private readonly int _signedLength;

    public DeltaMetadata Metadata { get; }
    public IReadOnlyList<TensorDelta> Tensors { get; }
    /// <summary>The key that signed this delta, when it was read from bytes.</summary>
    public byte[]? SignerKeyId { get; }
    public long ChangedElements => Tensors.Sum(t => (long)t.ChangedCount);

    /// <summary>
    /// The delta that turns <paramref name="baseTensors"/> into <paramref name="updatedTensors"/>. Both
    /// sets must hold the same tensor names with the same types and shapes.
    /// </summary>
    public static WeightDelta Compute(IReadOnlyList<WeightTensor> baseTensors, IReadOnlyList<WeightTensor> updatedTensors, DeltaMetadata metadata)
    {
        ValidateMetadata(metadata);
        var byName = IndexByName(baseTensors, "base");
        var updatedByName = IndexByName(updatedTensors, "updated");
        foreach (var name in byName.Keys)
            if (!updatedByName.ContainsKey(name)) throw new ArgumentException($"tensor '{name}' is in the base set but not in the updated set");
        var deltas = new List<TensorDelta>(updatedTensors.Count);
        foreach (var after in updatedTensors)
        {
            if (!byName.TryGetValue(after.Name, out var before))
                throw new ArgumentException($"tensor '{after.Name}' is in the updated set but not in the base set");
            if (!before.SameLayout(after))
                throw new ArgumentException($"tensor '{after.Name}' changed layout: {before.ElementType} {before.ShapeText} → {after.ElementType} {after.ShapeText}");
            deltas.Add(TensorDelta.Compute(before, after));
        }
        return new WeightDelta(metadata, deltas, null, null, 0);
    }

    /// <summary>
    /// Applies the delta to the base tensors of the model whose SHA-256 is <paramref name="baseModelSha256"/>.
    /// Returns the updated tensors (in the delta's order); fails on any other base.
    /// </summary>
    public IReadOnlyList<WeightTensor> Apply(IReadOnlyList<WeightTensor> baseTensors, string baseModelSha256)
    {
        if (!string.Equals(baseModelSha256, Metadata.BaseModelSha256, StringComparison.OrdinalIgnoreCase))
            throw new BundleFormatException("delta.metadata.baseModelSha256",
                $"the delta applies to model {Metadata.BaseModelSha256[..16]}… ({Metadata.ModelName} {Metadata.BaseVersion}), not to {baseModelSha256[..Math.Min(16, baseModelSha256.Length)]}…");
        var byName = IndexByName(baseTensors, "base");
        var result = new List<WeightTensor>(Tensors.Count);
        foreach (var t in Tensors)
        {
            if (!byName.TryGetValue(t.Name, out var before))
                throw new BundleFormatException($"delta.tensors.{t.Name}", "the base model has no such trainable tensor");
            result.Add(t.ApplyTo(before));
        }
        return result;
    }

    /// <summary>Serialises and signs the delta.</summary>
    public byte[] Sign(BundleSigningKey key)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(Metadata, BundleJsonContext.Default.DeltaMetadata);
        if (json.Length > MaxMetadataBytes) throw new BundleFormatException("delta.metadata", $"{json.Length} bytes exceed {MaxMetadataBytes}");
        var raw = DeltaPayloadCodec.Encode(Tensors);
        if (raw.Length > MaxPayloadBytes) throw new BundleFormatException("delta.payload", $"{raw.Length} bytes exceed {MaxPayloadBytes}");
        byte[] compressed;
        using (var compressor = new Compressor(19)) compressed = compressor.Wrap(raw).ToArray();

        int signedLength = HeaderLength + json.Length + compressed.Length;
        var bytes = new byte[signedLength + SignatureAlgorithms.EcdsaP256SignatureLength];
        var h = bytes.AsSpan();
        Magic.CopyTo(h);
        BinaryPrimitives.WriteUInt16LittleEndian(h[8..], FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(h[10..], (ushort)SignatureAlgorithm.EcdsaP256Sha256);
        BinaryPrimitives.WriteUInt32LittleEndian(h[12..], (uint)json.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(h[16..], (uint)compressed.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(h[20..], (uint)raw.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(h[24..], SignatureAlgorithms.EcdsaP256SignatureLength);
        key.KeyId.CopyTo(h[28..]);
        json.CopyTo(bytes, HeaderLength);
        compressed.CopyTo(bytes, HeaderLength + json.Length);
        key.Sign(h[..signedLength]).CopyTo(bytes, signedLength);
        return bytes;
    }

    /// <summary>Parses a signed delta strictly, without checking the signature.</summary>
    public static WeightDelta Read(byte[] bytes)
    {
        var s = bytes.AsSpan();
        if (s.Length < HeaderLength) throw Bad("header", $"truncated: {s.Length} bytes, the header alone is {HeaderLength}");
        if (!s[..8].SequenceEqual(Magic)) throw Bad("header.magic", "not an EdgeAgent weight delta (wrong magic bytes)");
        ushort format = BinaryPrimitives.ReadUInt16LittleEndian(s[8..]);
        if (format != FormatVersion) throw Bad("header.formatVersion", $"format version {format} is not supported (this reader knows {FormatVersion})");
        ushort algorithm = BinaryPrimitives.ReadUInt16LittleEndian(s[10..]);
        if (algorithm != (ushort)SignatureAlgorithm.EcdsaP256Sha256) throw Bad("header.signatureAlgorithm", $"unknown signature algorithm {algorithm}");
        uint metaLength = BinaryPrimitives.ReadUInt32LittleEndian(s[12..]);
        if (metaLength is 0 or > MaxMetadataBytes) throw Bad("header.metadataLength", $"{metaLength} is outside 1..{MaxMetadataBytes}");
        uint compressedLength = BinaryPrimitives.ReadUInt32LittleEndian(s[16..]);
        if (compressedLength is 0 or > MaxPayloadBytes) throw Bad("header.payloadLength", $"{compressedLength} is outside 1..{MaxPayloadBytes}");
        uint rawLength = BinaryPrimitives.ReadUInt32LittleEndian(s[20..]);
        if (rawLength is < 4 or > MaxPayloadBytes) throw Bad("header.rawPayloadLength", $"{rawLength} is outside 4..{MaxPayloadBytes}");
        ushort signatureLength = BinaryPrimitives.ReadUInt16LittleEndian(s[24..]);
        if (signatureLength != SignatureAlgorithms.EcdsaP256SignatureLength)
            throw Bad("header.signatureLength", $"{signatureLength}, ECDSA P-256 signatures are {SignatureAlgorithms.EcdsaP256SignatureLength} bytes");
        ushort reserved = BinaryPrimitives.ReadUInt16LittleEndian(s[26..]);
        if (reserved != 0) throw Bad("header.reserved", $"must be 0, is {reserved}");
        var keyId = s.Slice(28, SignatureAlgorithms.KeyIdLength).ToArray();

        long payloadOffset = HeaderLength + (long)metaLength;
        long signatureOffset = payloadOffset + compressedLength;
        long end = signatureOffset + signatureLength;
        if (s.Length < payloadOffset) throw Bad("metadata", $"truncated: needs {metaLength} bytes at offset {HeaderLength}, the data ends at {s.Length}");
        if (s.Length < signatureOffset) throw Bad("payload", $"truncated: needs {compressedLength} bytes at offset {payloadOffset}, the data ends at {s.Length}");
        if (s.Length < end) throw Bad("signature", $"truncated: needs {signatureLength} bytes at offset {signatureOffset}, the data ends at {s.Length}");
        if (s.Length > end) throw Bad("trailer", $"{s.Length - end} unexpected bytes after the signature");

        DeltaMetadata? metadata;
        try { metadata = JsonSerializer.Deserialize(s.Slice(HeaderLength, (int)metaLength), BundleJsonContext.Default.DeltaMetadata); }
        catch (JsonException e) { throw Bad("metadata", $"invalid JSON: {e.Message}", e); }
        if (metadata is null) throw Bad("metadata", "is JSON null");
        ValidateMetadata(metadata);

        var raw = new byte[rawLength];
        int written;
        try
        {
            using var decompressor = new Decompressor();
            written = decompressor.Unwrap(s.Slice((int)payloadOffset, (int)compressedLength), raw);
        }
        catch (ZstdException e) { throw Bad("payload", $"zstd data is corrupt: {e.Message}", e); }
        catch (ArgumentException e) { throw Bad("payload", $"zstd data is corrupt or longer than the header's {rawLength} bytes: {e.Message}", e); }
        if (written != rawLength) throw Bad("payload", $"decompressed to {written} bytes, the header says {rawLength}");
        var tensors = DeltaPayloadCodec.Decode(raw);
        return new WeightDelta(metadata, tensors, keyId, bytes, (int)signatureOffset);
    }

    /// <summary>Checks the signature with the trusted key named in the header; returns that key.</summary>
    public BundlePublicKey Verify(TrustedKeySet trusted)
    {
        if (_bytes is null || SignerKeyId is null) throw new InvalidOperationException("this delta was computed here, not read from signed bytes");
        if (!trusted.TryGet(SignerKeyId, out var key))
            throw new BundleSignatureException($"delta for {Metadata.ModelName} {Metadata.BaseVersion} from '{Metadata.Producer}' is signed by key {Convert.ToHexStringLower(SignerKeyId)[..16]}…, which is not trusted");
        if (!key.Verify(_bytes.AsSpan(0, _signedLength), _bytes.AsSpan(_signedLength)))
            throw new BundleSignatureException($"delta for {Metadata.ModelName} {Metadata.BaseVersion} from '{Metadata.Producer}': signature does not verify (tampered or corrupt)");
        return key;
    }

    public static WeightDelta Verify(byte[] bytes, TrustedKeySet trusted)
    {
        var delta = Read(bytes);
        delta.Verify(trusted);
        return delta;
    }

    private static void ValidateMetadata(DeltaMetadata m)
    {
        if (m.ModelName is null || !ManifestValidator.IsValidName(m.ModelName)) throw Bad("metadata.modelName", $"'{m.ModelName}' is not a valid model name");
        if (m.BaseVersion is null || !SemanticVersion.TryParse(m.BaseVersion, out _)) throw Bad("metadata.baseVersion", $"'{m.BaseVersion}' is not a semantic version");
        if (m.BaseModelSha256 is null || m.BaseModelSha256.Length != 64 || !m.BaseModelSha256.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f'))
            throw Bad("metadata.baseModelSha256", "must be 64 lower-case hex digits");
        if (m.SampleCount <= 0) throw Bad("metadata.sampleCount", $"{m.SampleCount} must be positive");
        if (m.ClassSamples is { } perClass)
        {
            if (perClass.Count > 4096) throw Bad("metadata.classSamples", $"{perClass.Count} classes exceed 4096");
            long sum = 0;
            foreach (var (label, count) in perClass)
            {
                if (string.IsNullOrWhiteSpace(label) || label.Length > 128) throw Bad("metadata.classSamples", $"class name '{label}' must be 1-128 characters");
                if (count < 0) throw Bad("metadata.classSamples", $"class '{label}' has {count} samples, must not be negative");
                sum += count;
            }
            if (sum != m.SampleCount) throw Bad("metadata.classSamples", $"the per-class counts add up to {sum}, sampleCount is {m.SampleCount}");
        }
        if (string.IsNullOrWhiteSpace(m.Producer) || m.Producer.Length > 256) throw Bad("metadata.producer", "must be 1-256 characters");
        if (m.CreatedUtc is null || !DateTimeOffset.TryParse(m.CreatedUtc, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out _))
            throw Bad("metadata.createdUtc", $"'{m.CreatedUtc}' is not an ISO 8601 time");
    }

    private static Dictionary<string, WeightTensor> IndexByName(IReadOnlyList<WeightTensor> tensors, string which)
    {
        var map = new Dictionary<string, WeightTensor>(StringComparer.Ordinal);
        foreach (var t in tensors)
            if (!map.TryAdd(t.Name, t)) throw new ArgumentException($"tensor '{t.Name}' appears twice in the {which} set");
        return map;
    }

    private static BundleFormatException Bad(string field, string message, Exception? inner = null) => new("delta." + field, message, inner);
}
