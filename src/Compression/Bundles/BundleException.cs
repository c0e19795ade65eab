namespace EdgeAgent.Compression.Bundles;

/// <summary>Base of every error about a bundle or a weight delta: it cannot be trusted or used.</summary>
public abstract class BundleException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// The bytes are not a well-formed bundle or delta: truncated, oversized, corrupt or inconsistent.
/// <see cref="Field"/> names the part that is wrong (for example "header.magic", "manifest.version").
/// </summary>
public sealed class BundleFormatException(string field, string message, Exception? inner = null)
    : BundleException($"{field}: {message}", inner)
{
    public string Field { get; } = field;
}

/// <summary>The bytes are well formed but the signature is invalid or made by a key that is not trusted.</summary>
public sealed class BundleSignatureException(string message) : BundleException(message);
