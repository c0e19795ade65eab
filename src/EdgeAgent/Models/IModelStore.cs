namespace EdgeAgent.Daemon.Models;

/// <summary>
/// The on-disk model store: <c>&lt;root&gt;/&lt;name&gt;/&lt;version&gt;/model.eab</c> plus a <c>current</c> pointer
/// per model that is switched atomically. Installing never changes what is served; only
/// <see cref="Activate"/> and <see cref="Rollback"/> move the pointer. Safe against <c>kill -9</c> at any
/// point: a half-installed version is invisible, a half-written pointer impossible.
/// </summary>
public interface IModelStore
{
    string Root { get; }

    IReadOnlyList<string> ModelNames();

    /// <summary>Installed versions of <paramref name="name"/>, newest first.</summary>
    IReadOnlyList<StoredModel> List(string name);

    /// <summary>The version the pointer names, or null when none is active.</summary>
    StoredModel? GetCurrent(string name);

    /// <summary>
    /// Copies <paramref name="bundleFile"/> in as <paramref name="version"/> (durably, then renamed into place),
    /// after <see cref="IBundleVerifier"/> accepted it. Installing the same bytes again is a no-op; different
    /// bytes under an existing version are refused.
    /// </summary>
    StoredModel Install(string name, string version, string bundleFile, string? parentVersion);

    /// <summary>Points <c>current</c> at an installed, good version and prunes beyond the last K.</summary>
    StoredModel Activate(string name, string version);

    /// <summary>
    /// Points <c>current</c> back at <paramref name="toVersion"/>, or when null at the version active before the
    /// current one. The target must be installed and not marked bad.
    /// </summary>
    StoredModel Rollback(string name, string? toVersion);

    /// <summary>Records that a version failed to verify or load, so fallback and rollback skip it.</summary>
    void MarkBad(string name, string version, string reason);

    /// <summary>
    /// Start-up: the model to serve. Tries the current version, then earlier activations, then any other
    /// installed version (newest first); each must pass the integrity check and <paramref name="tryLoad"/>
    /// (which returns null on success or the reason it failed). Failed versions are marked bad and the
    /// pointer is moved to the one that loads. Null when nothing loads.
    /// </summary>
    ModelResolution? ResolveServable(string name, Func<StoredModel, string?> tryLoad);
}

/// <summary>The outcome of <see cref="IModelStore.ResolveServable"/>: what is served and what was skipped on the way.</summary>
public sealed record ModelResolution(StoredModel Model, IReadOnlyList<string> Skipped)
{
    public bool FellBack => Skipped.Count > 0;
}

/// <summary>
/// Checks a bundle before it is installed or served (signature against the trusted keys, manifest, integrity)
/// and reads its identity. The implementation over the compression library's signed-bundle API is
/// <c>SignedBundleVerifier</c>.
/// </summary>
public interface IBundleVerifier
{
    BundleVerification Verify(string bundlePath);
}

/// <summary>The verdict on a bundle: its model name and version when acceptable, else the reason it is not.</summary>
public sealed record BundleVerification(string? Name, string? Version, string? Error)
{
    public bool Ok => Error is null;

    public static BundleVerification Accept(string name, string version) => new(name, version, null);

    public static BundleVerification Refuse(string error) => new(null, null, error);
}
