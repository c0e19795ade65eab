using System.Text.Json.Serialization;

namespace EdgeAgent.Exporter.Commands;

/// <summary>One device's delta that went into a fleet version.</summary>
internal sealed record Contribution(string Device, string? Version, long Samples, long DeltaBytes, double DeltaFraction, long ChangedElements);

/// <summary>A delta left out, and why.</summary>
internal sealed record Skipped(string Device, string Reason);

/// <summary>What <c>exporter fleet aggregate --json</c> writes: enough to audit a round without the broker.</summary>
internal sealed record AggregateSummary(string Group, string Model, string BaseVersion, string BaseSha256, string Version, string Sha256,
    long BaseBundleBytes, long BundleBytes, long Samples, Dictionary<string, long> ClassSamples, List<Contribution> Contributions,
    List<Skipped> Skipped, bool Published, double Seconds);

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, WriteIndented = true)]
[JsonSerializable(typeof(AggregateSummary))]
internal sealed partial class FleetJsonContext : JsonSerializerContext;
