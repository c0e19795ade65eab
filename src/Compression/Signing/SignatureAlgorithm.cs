namespace EdgeAgent.Compression.Signing;

/// <summary>Signature algorithms a bundle or delta header can name; the number is what is stored on disk.</summary>
public enum SignatureAlgorithm : ushort
{
    /// <summary>ECDSA over NIST P-256 with SHA-256; the signature is r||s, 32 bytes each (IEEE P1363).</summary>
    EcdsaP256Sha256 = 1,
}

internal static class SignatureAlgorithms
{
    public const int EcdsaP256SignatureLength = 64;
    public const int KeyIdLength = 32;
    public const string P256Oid = "1.2.840.10045.3.1.7";
}
