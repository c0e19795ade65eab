using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Compression.Versioning;

namespace EdgeAgent.Compression.Deltas;

/// <summary>One device's signed delta as it arrived (who sent it, which version it produced, the bytes).</summary>
public sealed record DeltaSubmission(string Origin, string? UpdatedVersion, byte[] Bytes);

/// <summary>A submission that was left out of the average, and why.</summary>
public sealed record DeltaRejection(string Origin, string Reason);

/// <summary>The new fleet version and what went into it.</summary>
public sealed record FleetVersion(byte[] Bundle, string Version, IReadOnlyList<WeightDelta> Contributions,
    IReadOnlyList<DeltaSubmission> Accepted, IReadOnlyList<DeltaRejection> Rejected, long TotalSamples, IReadOnlyDictionary<string, long> ClassSamples);

/// <summary>
/// Federated averaging across a fleet group, end to end: verifies each device's delta (a trusted signer, the model and
/// the exact base model hash), averages the accepted ones weighted by their sample counts, applies the result to the
/// base bundle and signs it as a new version that is higher than the base and than every contributing device's own
/// version (so every device accepts it as an upgrade).
/// </summary>
public static class FleetAggregation
{
    public static FleetVersion Aggregate(ModelBundle baseBundle, IReadOnlyList<DeltaSubmission> submissions, TrustedKeySet deviceKeys,
        BundleSigningKey key, string producer, int minDevices = 1, string? version = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minDevices, 1);
        var accepted = new List<DeltaSubmission>();
        var deltas = new List<WeightDelta>();
        var rejected = new List<DeltaRejection>();
        var signers = new HashSet<string>(StringComparer.Ordinal);
        foreach (var s in submissions)
        {
            try
            {
                var delta = WeightDelta.Read(s.Bytes);
                var signer = delta.Verify(deviceKeys);
                if (delta.Metadata.ModelName != baseBundle.Manifest.Name)
                    throw new ArgumentException($"it is for model '{delta.Metadata.ModelName}', the base is '{baseBundle.Manifest.Name}'");
                if (!string.Equals(delta.Metadata.BaseModelSha256, baseBundle.Manifest.ModelSha256, StringComparison.Ordinal))
                    throw new ArgumentException($"it is bound to base {delta.Metadata.BaseVersion} (model {delta.Metadata.BaseModelSha256[..16]}…), " +
                        $"not to {baseBundle.Manifest.Version} (model {baseBundle.Manifest.ModelSha256[..16]}…)");
                // One vote per device key: a device must not count twice by publishing under two ids.
                if (!signers.Add(signer.KeyIdHex))
                    throw new ArgumentException($"key {signer.KeyIdHex[..16]}… already contributed a delta under another id");
                accepted.Add(s);
                deltas.Add(delta);
            }
            catch (Exception e) when (e is BundleException or ArgumentException)
            {
                rejected.Add(new DeltaRejection(s.Origin, e.Message));
            }
        }
        if (deltas.Count < minDevices)
            throw new FleetAggregationException($"{deltas.Count} usable delta(s) for {baseBundle.Manifest.Name} {baseBundle.Manifest.Version}, at least {minDevices} needed" +
                (rejected.Count > 0 ? "; rejected: " + string.Join("; ", rejected.Select(r => $"{r.Origin}: {r.Reason}")) : ""));

        var baseTensors = BundleWeights.ReadTrainable(baseBundle);
        var layers = BundleWeights.FindQuantizedLayers(baseBundle);
        var averaged = FederatedAverage.Average(baseTensors, baseBundle.Manifest.ModelSha256, deltas, layers);

        string newVersion = version ?? NextVersion(baseBundle.Manifest.Version, accepted.Select(a => a.UpdatedVersion));
        if (SemanticVersion.Parse(newVersion) <= baseBundle.Version)
            throw new FleetAggregationException($"version {newVersion} is not higher than the base {baseBundle.Manifest.Version}; devices would refuse it as a downgrade");
        byte[] bundle = BundleWeights.Repack(baseBundle, averaged, newVersion, producer, key);

        var classes = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var d in deltas)
            foreach (var (label, count) in d.Metadata.ClassSamples ?? [])
                classes[label] = classes.GetValueOrDefault(label) + count;
        return new FleetVersion(bundle, newVersion, deltas, accepted, rejected, deltas.Sum(d => d.Metadata.SampleCount), classes);
    }

    /// <summary>
    /// The lowest release version above the base and every version a contributing device already runs: a prerelease
    /// becomes its release (1.3.0-local.2 → 1.3.0), a release gets its patch raised (1.2.0 → 1.2.1).
    /// </summary>
    public static string NextVersion(string baseVersion, IEnumerable<string?> deviceVersions)
    {
        var highest = SemanticVersion.Parse(baseVersion);
        foreach (var v in deviceVersions)
            if (SemanticVersion.TryParse(v, out var parsed) && parsed > highest) highest = parsed;
        var next = highest.IsPrerelease
            ? new SemanticVersion(highest.Major, highest.Minor, highest.Patch)
            : new SemanticVersion(highest.Major, highest.Minor, highest.Patch + 1);
        return next.ToString();
    }
}

public sealed class FleetAggregationException(string message) : Exception(message);
