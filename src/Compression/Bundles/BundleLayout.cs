using System.Buffers.Binary;

namespace EdgeAgent.Compression.Bundles;

/// <summary>
/// The fixed 60-byte header of a version-1 bundle (all integers little-endian):
/// <code>
///  0  8  magic 89 'E' 'A' 'B' 0D 0A 1A 0A
///  8  2  format version (1)
/// 10  2  signature algorithm (1 = ECDSA P-256 / SHA-256, r||s)
/// 12  4  manifest length M
/// 16  8  model length L
/// 24  2  signature length S
/// 26  2  reserved, 0
/// 28 32  signer key id (SHA-256 of the signer's SubjectPublicKeyInfo)
/// </code>
/// then M bytes of manifest JSON, L bytes of model, S bytes of signature over bytes [0, 60+M+L).
/// </summary>
internal static class BundleLayout
{
    public const int HeaderLength = 60;
    public const ushort FormatVersion = 1;
    public const int MaxManifestBytes = 1 << 20;
    public const long MaxModelBytes = 1L << 30;

    // PNG-style magic: the high byte catches 7-bit transfers, CR LF and ^Z catch text-mode mangling.
    public static ReadOnlySpan<byte> Magic => [0x89, (byte)'E', (byte)'A', (byte)'B', 0x0D, 0x0A, 0x1A, 0x0A];

    public const int MagicOffset = 0;
    public const int FormatVersionOffset = 8;
    public const int AlgorithmOffset = 10;
    public const int ManifestLengthOffset = 12;
    public const int ModelLengthOffset = 16;
    public const int SignatureLengthOffset = 24;
    public const int ReservedOffset = 26;
    public const int KeyIdOffset = 28;

    public static void WriteHeader(Span<byte> header, ushort algorithm, int manifestLength, long modelLength,
                                   int signatureLength, ReadOnlySpan<byte> keyId)
    {
        Magic.CopyTo(header);
        BinaryPrimitives.WriteUInt16LittleEndian(header[FormatVersionOffset..], FormatVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(header[AlgorithmOffset..], algorithm);
        BinaryPrimitives.WriteUInt32LittleEndian(header[ManifestLengthOffset..], (uint)manifestLength);
        BinaryPrimitives.WriteUInt64LittleEndian(header[ModelLengthOffset..], (ulong)modelLength);
        BinaryPrimitives.WriteUInt16LittleEndian(header[SignatureLengthOffset..], (ushort)signatureLength);
        BinaryPrimitives.WriteUInt16LittleEndian(header[ReservedOffset..], 0);
        keyId.CopyTo(header[KeyIdOffset..]);
    }
}
