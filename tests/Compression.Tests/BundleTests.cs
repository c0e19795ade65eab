using System.Buffers.Binary;
using System.Text;
using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Signing;
using Xunit;

namespace EdgeAgent.Compression.Tests;

public sealed class BundleTests : IDisposable
{
    private readonly BundleSigningKey _key = BundleSigningKey.Generate();
    private readonly TrustedKeySet _trusted = new();

    public BundleTests() => _trusted.Add(BundlePublicKey.FromPem(_key.PublicKey.ExportPem(), "test.pub"));

    public void Dispose()
    {
        _key.Dispose();
        _trusted.Dispose();
    }

    [Fact]
    public void RoundTripKeepsManifestModelAndSigner()
    {
        var model = TestBundles.Model(3000, 1);
        var bytes = ModelBundle.Create(TestBundles.Manifest(), model, _key);
        var bundle = ModelBundle.Verify(bytes, _trusted);
        Assert.Equal(model, bundle.Model.ToArray());
        Assert.Equal("fmnist-cnn", bundle.Manifest.Name);
        Assert.Equal("1.2.0", bundle.Version.ToString());
        Assert.Equal("1.1.0", bundle.ParentVersion!.ToString());
        Assert.Equal(3000, bundle.Manifest.ModelBytes);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(model)), bundle.Manifest.ModelSha256);
        Assert.Equal(10, bundle.Manifest.Labels.Length);
        Assert.Equal(["fc2.weight", "fc2.bias"], bundle.Manifest.Trainable!.Initializers);
        Assert.Equal(0.00392156862745098, bundle.Manifest.Preprocess!.Value.GetProperty("scale").GetDouble());
        Assert.Equal(_key.KeyId, bundle.SignerKeyId);
        Assert.Equal(new long[] { -1, 1, 28, 28 }, bundle.Manifest.Inputs[0].Shape);
    }

    [Fact]
    public void AnUntrustedKeyIsRefused()
    {
        using var other = BundleSigningKey.Generate();
        var bytes = ModelBundle.Create(TestBundles.Manifest(), TestBundles.Model(100, 2), other);
        var e = Assert.Throws<BundleSignatureException>(() => ModelBundle.Verify(bytes, _trusted));
        Assert.Contains("not among the 1 trusted", e.Message);
    }

    [Fact]
    public void AForgedSignatureUnderATrustedKeyIdIsRefused()
    {
        // An attacker copies our key id into the header but signs with their own key.
        using var attacker = BundleSigningKey.Generate();
        var bytes = ModelBundle.Create(TestBundles.Manifest(), TestBundles.Model(100, 3), attacker);
        _key.KeyId.CopyTo(bytes, 28);
        int signedLength = bytes.Length - 64;
        attacker.Sign(bytes.AsSpan(0, signedLength)).CopyTo(bytes, signedLength);
        Assert.Throws<BundleSignatureException>(() => ModelBundle.Verify(bytes, _trusted));
    }

    /// <summary>The must-show: flipping any single bit anywhere (header, manifest, model, signature) fails verification.</summary>
    [Fact]
    public void EveryFlippedBitFailsVerification()
    {
        var bytes = ModelBundle.Create(TestBundles.Manifest(), TestBundles.Model(1500, 4), _key);
        int manifestLength = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12));
        var regions = new Dictionary<string, int>();
        for (int bit = 0; bit < bytes.Length * 8; bit++)
        {
            var copy = (byte[])bytes.Clone();
            copy[bit / 8] ^= (byte)(1 << (bit % 8));
            var e = Assert.ThrowsAny<BundleException>(() => ModelBundle.Verify(copy, _trusted));
            Assert.False(string.IsNullOrWhiteSpace(e.Message));
            int offset = bit / 8;
            string region = offset < 60 ? "header" : offset < 60 + manifestLength ? "manifest" : offset < bytes.Length - 64 ? "model" : "signature";
            regions[region] = regions.GetValueOrDefault(region) + 1;
        }
        Assert.Equal(60 * 8, regions["header"]);
        Assert.Equal(manifestLength * 8, regions["manifest"]);
        Assert.Equal(1500 * 8, regions["model"]);
        Assert.Equal(64 * 8, regions["signature"]);
    }

    [Fact]
    public void EveryTruncationIsAFormatErrorNamingTheSection()
    {
        var bytes = ModelBundle.Create(TestBundles.Manifest(), TestBundles.Model(500, 5), _key);
        int manifestLength = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12));
        for (int length = 0; length < bytes.Length; length++)
        {
            var e = Assert.Throws<BundleFormatException>(() => ModelBundle.Read(bytes.AsSpan(0, length).ToArray()));
            string expected = length < 60 ? "header" : length < 60 + manifestLength ? "manifest" : length < bytes.Length - 64 ? "model" : "signature";
            Assert.Equal(expected, e.Field);
            Assert.Contains("truncated", e.Message);
        }
    }

    [Fact]
    public void TrailingBytesAreRefused()
    {
        var bytes = ModelBundle.Create(TestBundles.Manifest(), TestBundles.Model(50, 6), _key);
        var e = Assert.Throws<BundleFormatException>(() => ModelBundle.Read([.. bytes, 0]));
        Assert.Equal("trailer", e.Field);
    }

    [Theory]
    [InlineData(12, 0xFFFFFFFFu, "header.manifestLength")]
    [InlineData(12, 0u, "header.manifestLength")]
    [InlineData(16, 0u, "header.modelLength")]
    [InlineData(24, 65u, "header.signatureLength")]
    [InlineData(8, 2u, "header.formatVersion")]
    [InlineData(10, 7u, "header.signatureAlgorithm")]
    [InlineData(26, 1u, "header.reserved")]
    [InlineData(0, 0u, "header.magic")]
    public void CorruptHeaderFieldsAreNamed(int offset, uint value, string field)
    {
        var bytes = ModelBundle.Create(TestBundles.Manifest(), TestBundles.Model(50, 7), _key);
        switch (offset)
        {
            case 12: BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(offset), value); break;
            case 16: BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(offset), value); break;
            default: BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(offset), (ushort)value); break;
        }
        var e = Assert.Throws<BundleFormatException>(() => ModelBundle.Read(bytes));
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void OversizedModelLengthIsRefusedBeforeAllocating()
    {
        var bytes = ModelBundle.Create(TestBundles.Manifest(), TestBundles.Model(50, 8), _key);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), ulong.MaxValue);
        var e = Assert.Throws<BundleFormatException>(() => ModelBundle.Read(bytes));
        Assert.Equal("header.modelLength", e.Field);
    }

    [Theory]
    [InlineData("version", "1.2", "manifest.version")]
    [InlineData("name", "bad name!", "manifest.name")]
    [InlineData("parent", "1.3.0", "manifest.parentVersion")]
    [InlineData("labels", "dup", "manifest.labels[1]")]
    public void CreateRefusesAnInvalidManifest(string what, string value, string field)
    {
        var m = TestBundles.Manifest();
        m = what switch
        {
            "version" => m with { Version = value },
            "name" => m with { Name = value },
            "parent" => m with { ParentVersion = value },
            _ => m with { Labels = [value, value] },
        };
        var e = Assert.Throws<BundleFormatException>(() => ModelBundle.Create(m, TestBundles.Model(10, 9), _key));
        Assert.Equal(field, e.Field);
    }

    [Fact]
    public void UnknownManifestMembersAreRefusedByTheReader()
    {
        // Re-sign a bundle whose manifest carries an extra member, so only the manifest rule can fail.
        var bytes = ModelBundle.Create(TestBundles.Manifest(), TestBundles.Model(20, 10), _key);
        var bundle = ModelBundle.Read(bytes);
        var json = Encoding.UTF8.GetString(bundle.ManifestJson).TrimEnd().TrimEnd('}') + ", \"extra\": 1}";
        var rebuilt = Rebuild(Encoding.UTF8.GetBytes(json), bundle.Model.ToArray());
        var e = Assert.Throws<BundleFormatException>(() => ModelBundle.Read(rebuilt));
        Assert.StartsWith("manifest", e.Field);
        Assert.Contains("extra", e.Message);
    }

    [Fact]
    public void AModelThatDoesNotMatchTheManifestHashIsCorrupt()
    {
        var bytes = ModelBundle.Create(TestBundles.Manifest(), TestBundles.Model(20, 11), _key);
        var bundle = ModelBundle.Read(bytes);
        var model = bundle.Model.ToArray();
        model[3] ^= 1;
        var e = Assert.Throws<BundleFormatException>(() => ModelBundle.Read(Rebuild(bundle.ManifestJson, model)));
        Assert.Equal("model", e.Field);
    }

    private byte[] Rebuild(byte[] manifest, byte[] model)
    {
        var bytes = new byte[60 + manifest.Length + model.Length + 64];
        ModelBundle.Create(TestBundles.Manifest(), model, _key).AsSpan(0, 60).CopyTo(bytes);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), (uint)manifest.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(16), (ulong)model.Length);
        manifest.CopyTo(bytes, 60);
        model.CopyTo(bytes, 60 + manifest.Length);
        _key.Sign(bytes.AsSpan(0, bytes.Length - 64)).CopyTo(bytes, bytes.Length - 64);
        return bytes;
    }
}
