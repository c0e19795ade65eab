using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeAgent.Compression.Distribution;
using EdgeAgent.Daemon.Mqtt;

namespace EdgeAgent.Tests.Mqtt;

/// <summary>
/// Signed test bundles: magic, header length, JSON header {name, version}, payload, then an ECDSA P-256 signature
/// over everything before it. Enough to exercise transfer, signature rejection and version rules end to end.
/// </summary>
public sealed class TestBundles : IBundleVerifier
{
    private static readonly byte[] Magic = "EATB"u8.ToArray();
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    public string KeyId => "test-key";

    public byte[] Create(string name, string version, int bytes, int seed = 1)
    {
        byte[] header = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, string> { ["name"] = name, ["version"] = version },
            TestJson.Default.DictionaryStringString));
        var payload = new byte[Math.Max(0, bytes - 8 - header.Length - 64)];
        new Random(seed).NextBytes(payload);
        var body = new byte[8 + header.Length + payload.Length];
        Magic.CopyTo(body, 0);
        BinaryPrimitives.WriteInt32LittleEndian(body.AsSpan(4), header.Length);
        header.CopyTo(body, 8);
        payload.CopyTo(body, 8 + header.Length);
        return [.. body, .. _key.SignData(body, HashAlgorithmName.SHA256)];
    }

    public BundleIdentity Verify(string bundlePath)
    {
        byte[] file = File.ReadAllBytes(bundlePath);
        if (file.Length < 8 + 64 || !file.AsSpan(0, 4).SequenceEqual(Magic)) throw new BundleRejectedException("not a test bundle (bad magic)");
        var body = file.AsSpan(0, file.Length - 64);
        if (!_key.VerifyData(body, file.AsSpan(file.Length - 64), HashAlgorithmName.SHA256))
            throw new BundleRejectedException($"signature does not verify against trusted key '{KeyId}'");
        int headerLength = BinaryPrimitives.ReadInt32LittleEndian(body[4..]);
        var header = JsonSerializer.Deserialize(body.Slice(8, headerLength), TestJson.Default.DictionaryStringString)!;
        return new BundleIdentity(header["name"], header["version"], Hex.Sha256(file), KeyId);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(Dictionary<string, string>))]
internal sealed partial class TestJson : System.Text.Json.Serialization.JsonSerializerContext;
