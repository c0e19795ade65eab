using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Distribution;
using EdgeAgent.Compression.Signing;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>Checks signed model bundles (.eab) against the device's trusted keys; the only gate a received model passes.</summary>
public sealed class EabBundleVerifier(TrustedKeySet trusted) : IBundleVerifier
{
    public BundleIdentity Verify(string bundlePath)
    {
        ModelBundle bundle;
        BundlePublicKey signer;
        try
        {
            bundle = ModelBundle.ReadFile(bundlePath);
            signer = bundle.Verify(trusted);
        }
        catch (BundleException e)
        {
            throw new BundleRejectedException(e.Message, e);
        }
        return new BundleIdentity(bundle.Manifest.Name, bundle.Manifest.Version, bundle.BundleSha256, signer.KeyIdHex);
    }
}
