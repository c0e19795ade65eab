using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Daemon.Configuration;

namespace EdgeAgent.Daemon.Models;

/// <summary>Chooses the bundle verifier for the configuration: signed bundles checked against <c>model:trustedKeys</c>.</summary>
public static class BundleVerifiers
{
    public static IBundleVerifier Create(ModelOptions options) => new SignedBundleVerifier(options.TrustedKeys, options.RequireSignature);
}

/// <summary>
/// Verifies a signed bundle (<c>.eab</c>) with the compression library: layout, manifest, model hash and the
/// signature against the trusted keys. Keys are PEM files, or directories of <c>*.pub</c> files.
/// </summary>
public sealed class SignedBundleVerifier : IBundleVerifier
{
    private readonly TrustedKeySet _trusted;
    private readonly bool _requireSignature;
    private readonly string? _keyError;

    public SignedBundleVerifier(IReadOnlyList<string> trustedKeys, bool requireSignature)
    {
        _requireSignature = requireSignature;
        _trusted = new TrustedKeySet();
        foreach (var entry in trustedKeys)
        {
            try
            {
                if (Directory.Exists(entry))
                    foreach (var key in TrustedKeySet.FromDirectory(entry).Keys) _trusted.Add(key);
                else if (File.Exists(entry)) _trusted.Add(BundlePublicKey.FromFile(entry));
                else _trusted.Add(BundlePublicKey.FromPem(entry, "model:trustedKeys"));
            }
            catch (Exception e) when (e is KeyFormatException or IOException or FormatException or ArgumentException)
            {
                _keyError = $"model:trustedKeys entry '{(entry.Length > 40 ? entry[..40] + "…" : entry)}' is not a public key: {e.Message}";
            }
        }
    }

    public int TrustedKeyCount => _trusted.Count;

    public BundleVerification Verify(string bundlePath)
    {
        if (_keyError is not null) return BundleVerification.Refuse(_keyError);
        try
        {
            if (!_requireSignature)
            {
                var unchecked_ = ModelBundle.ReadFile(bundlePath);
                return BundleVerification.Accept(unchecked_.Manifest.Name, unchecked_.Manifest.Version);
            }
            if (_trusted.Count == 0)
                return BundleVerification.Refuse("no trusted keys are configured (model:trustedKeys) and model:requireSignature is true");
            var bundle = ModelBundle.VerifyFile(bundlePath, _trusted);
            return BundleVerification.Accept(bundle.Manifest.Name, bundle.Manifest.Version);
        }
        catch (Exception e) when (e is BundleException or IOException or InvalidDataException or FormatException or System.Text.Json.JsonException)
        {
            return BundleVerification.Refuse(e.Message);
        }
    }
}
