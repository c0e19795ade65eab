using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Daemon.Models;

namespace EdgeAgent.Daemon.Learning;

/// <summary>
/// The model store's verifier once the device learns: bundles the configured verifier accepts (fleet keys,
/// <c>model:trustedKeys</c>) pass as before; besides them, a bundle signed by the device's own key is trusted
/// only as a version this device derived — it must name the device's model (<c>model:name</c>), carry a local
/// version (<c>X.Y.Z-device.N</c>, see <see cref="LocalVersion"/>), and have a parent version that is
/// installed in this device's store. The device key thus never vouches for a model from elsewhere, and a
/// local version always descends from one the fleet signed.
/// </summary>
public sealed class DeviceKeyBundleVerifier(IBundleVerifier fleet, BundlePublicKey deviceKey, string modelName, Func<string, string, bool> isInstalled) : IBundleVerifier
{
    public BundleVerification Verify(string bundlePath)
    {
        var verdict = fleet.Verify(bundlePath);
        if (verdict.Ok) return verdict;
        ModelBundle bundle;
        try
        {
            bundle = ModelBundle.ReadFile(bundlePath);
        }
        catch (Exception e) when (e is BundleException or IOException or InvalidDataException or FormatException or System.Text.Json.JsonException)
        {
            return verdict;
        }
        if (!bundle.SignerKeyId.AsSpan().SequenceEqual(deviceKey.KeyId)) return verdict;
        var m = bundle.Manifest;
        if (!deviceKey.Verify(bundle.Bytes.Span[..^bundle.Signature.Length], bundle.Signature.Span))
            return BundleVerification.Refuse($"bundle '{m.Name}' {m.Version}: signature does not verify with this device's key (tampered or corrupt)");
        if (m.Name != modelName)
            return BundleVerification.Refuse($"bundle '{m.Name}' {m.Version} is signed by this device's key but names another model than '{modelName}' (model:name)");
        if (!LocalVersion.IsLocal(m.Version))
            return BundleVerification.Refuse($"bundle '{m.Name}' {m.Version} is signed by this device's key but is not a local version (X.Y.Z-{LocalVersion.Tag}.N)");
        if (m.ParentVersion is null || !isInstalled(m.Name, m.ParentVersion))
            return BundleVerification.Refuse($"bundle '{m.Name}' {m.Version} is signed by this device's key but its parent '{m.ParentVersion}' is not installed here");
        return BundleVerification.Accept(m.Name, m.Version);
    }
}
