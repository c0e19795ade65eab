namespace EdgeAgent.Compression.Bundles;

/// <summary>Manifest rules tools check up front, so a bad argument is reported before any work.</summary>
public static class ManifestRules
{
    public static bool IsValidName(string name) => ManifestValidator.IsValidName(name);
}
