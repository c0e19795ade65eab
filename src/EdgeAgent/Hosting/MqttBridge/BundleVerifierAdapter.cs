using System.Security.Cryptography;
using EdgeAgent.Compression.Bundles;
using EdgeAgent.Daemon.Mqtt;

namespace EdgeAgent.Daemon.Hosting.MqttBridge;

/// <summary>The MQTT layer's verifier over the daemon's (same trusted keys, same rules).</summary>
internal sealed class BundleVerifierAdapter(Models.IBundleVerifier verifier) : Mqtt.IBundleVerifier
{
    public BundleIdentity Verify(string bundlePath)
    {
        var verdict = verifier.Verify(bundlePath);
        if (!verdict.Ok) throw new BundleRejectedException(verdict.Error!);
        var bundle = ModelBundle.ReadFile(bundlePath);
        string sha;
        using (var stream = File.OpenRead(bundlePath)) sha = Convert.ToHexStringLower(SHA256.HashData(stream));
        return new BundleIdentity(verdict.Name!, verdict.Version!, sha, bundle.SignerKeyIdHex);
    }
}
