using System.Text.Json.Nodes;

namespace EdgeAgent.Daemon.Models;

/// <summary>One installed version of a model: <c>models/&lt;name&gt;/&lt;version&gt;/</c> with its bundle and metadata.</summary>
public sealed record StoredModel(
    string Name,
    string Version,
    string Directory,
    string Sha256,
    long SizeBytes,
    DateTimeOffset InstalledAt,
    string? Parent,
    string? BadReason)
{
    /// <summary>The bundle file inside the version directory.</summary>
    public string BundlePath => Path.Combine(Directory, ModelStore.BundleFileName);

    public bool IsBad => BadReason is not null;

    public JsonObject ToJson(bool isCurrent) => new()
    {
        ["name"] = Name,
        ["version"] = Version,
        ["sha256"] = Sha256,
        ["size_bytes"] = SizeBytes,
        ["installed_at"] = InstalledAt.ToString("O"),
        ["parent"] = Parent,
        ["current"] = isCurrent,
        ["bad"] = BadReason,
    };
}

public sealed class ModelStoreException(string message, Exception? inner = null) : Exception(message, inner);
