namespace EdgeAgent.Daemon.Mqtt;

/// <summary>What a bundle's verified signature vouches for.</summary>
public sealed record BundleIdentity(string Name, string Version, string Sha256, string KeyId);

/// <summary>Checks a bundle file's signature against the device's trusted keys.</summary>
public interface IBundleVerifier
{
    /// <summary>Throws <see cref="BundleRejectedException"/> naming the reason when the bundle is not trusted.</summary>
    BundleIdentity Verify(string bundlePath);
}

public sealed class BundleRejectedException(string message, Exception? inner = null) : Exception(message, inner);
