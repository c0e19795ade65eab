using System.Security.Cryptography;

namespace EdgeAgent.Compression.Signing;

/// <summary>
/// The private half of a bundle signing key: ECDSA P-256, stored as an unencrypted PKCS#8 PEM file
/// ("-----BEGIN PRIVATE KEY-----") that only its owner can read.
/// </summary>
public sealed class BundleSigningKey : IDisposable
{
    private readonly ECDsa _key;

    private BundleSigningKey(ECDsa key, string source)
    {
        _key = key;
        PublicKey = BundlePublicKey.FromEcdsa(key, source + ".pub");
    }

    public BundlePublicKey PublicKey { get; }
    public byte[] KeyId => PublicKey.KeyId;

    public static BundleSigningKey Generate() =>
        new(ECDsa.Create(ECCurve.NamedCurves.nistP256), "generated");

    public static BundleSigningKey FromPem(string pem, string source = "inline")
    {
        if (!PemEncoding.TryFind(pem, out var fields))
            throw new KeyFormatException($"{source}: no PEM block found (expected -----BEGIN PRIVATE KEY-----)");
        var label = pem[fields.Label];
        if (label != "PRIVATE KEY")
        {
            throw new KeyFormatException(label is "PUBLIC KEY"
                ? $"{source}: this is a public key; signing needs the private key file written by 'exporter keygen'"
                : $"{source}: PEM block is '{label}', expected 'PRIVATE KEY' (PKCS#8)");
        }
        byte[] der;
        try { der = Convert.FromBase64String(pem[fields.Base64Data].ToString()); }
        catch (FormatException e) { throw new KeyFormatException($"{source}: PEM body is not valid base64", e); }
        var key = ECDsa.Create();
        try
        {
            key.ImportPkcs8PrivateKey(der, out int read);
            if (read != der.Length) throw new KeyFormatException($"{source}: {der.Length - read} stray bytes after the key");
            BundlePublicKey.EnsureP256(key, source);
            return new BundleSigningKey(key, source);
        }
        catch (CryptographicException e)
        {
            key.Dispose();
            throw new KeyFormatException($"{source}: not an unencrypted PKCS#8 EC private key ({e.Message})", e);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    public static BundleSigningKey FromFile(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KeyFormatException($"{path}: cannot read private key ({e.Message})", e);
        }
        return FromPem(text, path);
    }

    public string ExportPrivatePem() => _key.ExportPkcs8PrivateKeyPem() + "\n";

    /// <summary>Signs <paramref name="data"/> with SHA-256; the result is r||s, 64 bytes.</summary>
    public byte[] Sign(ReadOnlySpan<byte> data) =>
        _key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    public void Dispose()
    {
        _key.Dispose();
        PublicKey.Dispose();
    }
}
