using System.Security.Cryptography;

namespace EdgeAgent.Compression.Signing;

/// <summary>
/// An ECDSA P-256 public key that verifies bundles and deltas. Its key id is the SHA-256 of its
/// SubjectPublicKeyInfo DER, which is what a signed header records so that a verifier can pick the
/// key out of a trusted set without trying them all.
/// </summary>
public sealed class BundlePublicKey : IDisposable
{
    private readonly ECDsa _key;

    private BundlePublicKey(ECDsa key, string source)
    {
        _key = key;
        Source = source;
        SubjectPublicKeyInfo = key.ExportSubjectPublicKeyInfo();
        KeyId = SHA256.HashData(SubjectPublicKeyInfo);
    }

    /// <summary>Where the key came from (a file path or "inline"), for error messages.</summary>
    public string Source { get; }
    public byte[] SubjectPublicKeyInfo { get; }
    public byte[] KeyId { get; }
    public string KeyIdHex => Convert.ToHexStringLower(KeyId);

    internal static BundlePublicKey FromEcdsa(ECDsa key, string source)
    {
        var copy = ECDsa.Create();
        copy.ImportSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo(), out _);
        return new BundlePublicKey(copy, source);
    }

    /// <summary>Reads a "-----BEGIN PUBLIC KEY-----" (SubjectPublicKeyInfo) PEM holding a P-256 key.</summary>
    public static BundlePublicKey FromPem(string pem, string source = "inline")
    {
        if (!PemEncoding.TryFind(pem, out var fields))
            throw new KeyFormatException($"{source}: no PEM block found (expected -----BEGIN PUBLIC KEY-----)");
        var label = pem[fields.Label];
        if (label != "PUBLIC KEY")
        {
            throw new KeyFormatException(label.Contains("PRIVATE", StringComparison.Ordinal)
                ? $"{source}: this is a private key; give the public key (the .pub file written by 'exporter keygen')"
                : $"{source}: PEM block is '{label}', expected 'PUBLIC KEY'");
        }
        byte[] der;
        try { der = Convert.FromBase64String(pem[fields.Base64Data].ToString()); }
        catch (FormatException e) { throw new KeyFormatException($"{source}: PEM body is not valid base64", e); }
        var key = ECDsa.Create();
        try
        {
            key.ImportSubjectPublicKeyInfo(der, out int read);
            if (read != der.Length) throw new KeyFormatException($"{source}: {der.Length - read} stray bytes after the key");
            EnsureP256(key, source);
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new KeyFormatException($"{source}: not an EC public key ({e.Message})", e);
        }
        catch
        {
            key.Dispose();
            throw;
        }
        return new BundlePublicKey(key, source);
    }

    public static BundlePublicKey FromFile(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KeyFormatException($"{path}: cannot read public key ({e.Message})", e);
        }
        return FromPem(text, path);
    }

    internal static void EnsureP256(ECDsa key, string source)
    {
        var curve = key.ExportParameters(false).Curve;
        if (!curve.IsNamed || curve.Oid.Value != SignatureAlgorithms.P256Oid)
            throw new KeyFormatException($"{source}: key is on curve '{curve.Oid.FriendlyName ?? curve.Oid.Value}', expected NIST P-256");
    }

    public string ExportPem() => PemEncoding.WriteString("PUBLIC KEY", SubjectPublicKeyInfo) + "\n";

    /// <summary>True when <paramref name="signature"/> (r||s) is a valid signature of <paramref name="data"/>.</summary>
    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature)
    {
        if (signature.Length != SignatureAlgorithms.EcdsaP256SignatureLength) return false;
        return _key.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    public void Dispose() => _key.Dispose();
}
