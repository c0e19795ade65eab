using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Daemon.Mqtt;

namespace EdgeAgent.Tests.Mqtt;

/// <summary>
/// Real signed bundles (.eab) for the transfer tests: a fresh signing key, a device-side verifier that trusts only
/// it, and bundles of any size (the model bytes are random: transfer and signature do not look inside).
/// </summary>
public sealed class TestBundles : IBundleVerifier, IDisposable
{
    private readonly BundleSigningKey _key = BundleSigningKey.Generate();
    private readonly TrustedKeySet _trusted = new();
    private readonly EabBundleVerifier _verifier;

    public TestBundles()
    {
        _trusted.Add(BundlePublicKey.FromPem(_key.PublicKey.ExportPem(), "test.pub"));
        _verifier = new EabBundleVerifier(_trusted);
    }

    public BundleSigningKey Key => _key;

    public byte[] Create(string name, string version, int bytes, int seed = 1)
    {
        var model = new byte[Math.Max(1, bytes - 1024)];
        new Random(seed).NextBytes(model);
        var manifest = new BundleManifest
        {
            Name = name,
            Version = version,
            ModelFormat = "onnx",
            ModelSha256 = "",
            ModelBytes = model.Length,
            Inputs = [new TensorSpec { Name = "x", ElementType = "float32", Shape = [1, 64] }],
            Outputs = [new TensorSpec { Name = "y", ElementType = "float32", Shape = [1, 4] }],
            CreatedUtc = "2026-11-23T10:00:00Z",
            Producer = "edgeagent tests",
        };
        return ModelBundle.Create(manifest, model, _key);
    }

    public BundleIdentity Verify(string bundlePath) => _verifier.Verify(bundlePath);

    public void Dispose()
    {
        _trusted.Dispose();
        _key.Dispose();
    }
}
