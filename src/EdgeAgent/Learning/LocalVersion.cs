using EdgeAgent.Compression.Versioning;

namespace EdgeAgent.Daemon.Learning;

/// <summary>
/// How a version learnt on the device is named: the parent's next patch release with the pre-release
/// <c>device.N</c> — <c>1.2.0</c> → <c>1.2.1-device.1</c> → <c>1.2.1-device.2</c>. It sorts after its parent
/// (so the store's downgrade check accepts it) and before the fleet's next release <c>1.2.1</c> (so an OTA
/// release always supersedes local learning). Build metadata is dropped: it does not order versions.
/// </summary>
public static class LocalVersion
{
    public const string Tag = "device";

    public static string Next(string parent)
    {
        if (!SemanticVersion.TryParse(parent, out var v, out string error))
            throw new LearnerException($"the served version '{parent}' is not a semantic version ({error}), so no local version can be derived from it");
        if (IsLocal(v, out long n)) return $"{v.Major}.{v.Minor}.{v.Patch}-{Tag}.{n + 1}";
        return $"{v.Major}.{v.Minor}.{v.Patch + 1}-{Tag}.1";
    }

    public static bool IsLocal(string version) => SemanticVersion.TryParse(version, out var v) && IsLocal(v, out _);

    private static bool IsLocal(SemanticVersion v, out long n)
    {
        n = 0;
        return v.Prerelease.Count == 2 && v.Prerelease[0] == Tag && long.TryParse(v.Prerelease[1], out n);
    }
}
