using EdgeAgent.Daemon.Configuration;

namespace EdgeAgent.Daemon.Models;

/// <summary>
/// Chooses the bundle verifier for the configuration. The signed-bundle format and its verification live in
/// src/Compression (issue 5); until that API is merged, every bundle is refused with that reason rather than
/// served unverified.
/// </summary>
public static class BundleVerifiers
{
    public static IBundleVerifier Create(ModelOptions options) => new UnavailableBundleVerifier();

    private sealed class UnavailableBundleVerifier : IBundleVerifier
    {
        public BundleVerification Verify(string bundlePath) =>
            BundleVerification.Refuse("this build has no signed-bundle support (src/Compression's bundle reader is not merged yet)");
    }
}
