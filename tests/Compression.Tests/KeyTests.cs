using EdgeAgent.Compression.Signing;
using Xunit;

namespace EdgeAgent.Compression.Tests;

public class KeyTests
{
    [Fact]
    public void PemRoundTripKeepsTheKeyAndItsId()
    {
        using var key = BundleSigningKey.Generate();
        using var again = BundleSigningKey.FromPem(key.ExportPrivatePem());
        using var pub = BundlePublicKey.FromPem(key.PublicKey.ExportPem());
        Assert.Equal(key.KeyId, again.KeyId);
        Assert.Equal(key.KeyId, pub.KeyId);
        var data = "payload"u8.ToArray();
        Assert.True(pub.Verify(data, again.Sign(data)));
        Assert.False(pub.Verify("payloaD"u8, again.Sign(data)));
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", key.ExportPrivatePem());
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----", key.PublicKey.ExportPem());
    }

    [Fact]
    public void SwappedKeyFilesGetClearErrors()
    {
        using var key = BundleSigningKey.Generate();
        var e1 = Assert.Throws<KeyFormatException>(() => BundlePublicKey.FromPem(key.ExportPrivatePem(), "k.pub"));
        Assert.Contains("private key", e1.Message);
        var e2 = Assert.Throws<KeyFormatException>(() => BundleSigningKey.FromPem(key.PublicKey.ExportPem(), "k"));
        Assert.Contains("public key", e2.Message);
        var e3 = Assert.Throws<KeyFormatException>(() => BundlePublicKey.FromPem("hello", "k.pub"));
        Assert.Contains("k.pub", e3.Message);
    }

    [Fact]
    public void OtherCurvesAreRefused()
    {
        using var p384 = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP384);
        var e = Assert.Throws<KeyFormatException>(() => BundlePublicKey.FromPem(p384.ExportSubjectPublicKeyInfoPem(), "p384.pub"));
        Assert.Contains("P-256", e.Message);
    }

    [Fact]
    public void TrustedSetLoadsADirectoryOfPublicKeys()
    {
        var dir = Directory.CreateTempSubdirectory("eab-keys-");
        try
        {
            using var a = BundleSigningKey.Generate();
            using var b = BundleSigningKey.Generate();
            File.WriteAllText(Path.Combine(dir.FullName, "a.pub"), a.PublicKey.ExportPem());
            File.WriteAllText(Path.Combine(dir.FullName, "b.pub"), b.PublicKey.ExportPem());
            File.WriteAllText(Path.Combine(dir.FullName, "notes.txt"), "ignored");
            using var set = TrustedKeySet.FromDirectory(dir.FullName);
            Assert.Equal(2, set.Count);
            Assert.True(set.TryGet(a.KeyId, out _));
            Assert.True(set.TryGet(b.KeyId, out _));
            using var c = BundleSigningKey.Generate();
            Assert.False(set.TryGet(c.KeyId, out _));
        }
        finally { dir.Delete(true); }
    }
}
