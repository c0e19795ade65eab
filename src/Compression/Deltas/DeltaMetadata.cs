namespace EdgeAgent.Compression.Deltas;

/// <summary>
/// The signed JSON part of a weight delta: which model and base version it applies to (bound by the
/// base model's SHA-256) and how many training samples stand behind it (the federated-average weight).
/// </summary>
public sealed record DeltaMetadata
{
    public required string ModelName { get; init; }
    /// <summary>Semantic version of the base model the delta applies to.</summary>
    public required string BaseVersion { get; init; }
    /// <summary>Lower-case hex SHA-256 of the base model's bytes (the bundle's manifest.modelSha256).</summary>
    public required string BaseModelSha256 { get; init; }
    /// <summary>Labelled samples the update was trained on; must be positive.</summary>
    public required long SampleCount { get; init; }
    /// <summary>
    /// Labelled samples per class behind the update (class name → count), when the producer knows them; they add up to
    /// <see cref="SampleCount"/>. The aggregator reports them so an operator sees which classes a fleet version learned.
    /// </summary>
    public Dictionary<string, long>? ClassSamples { get; init; }
    /// <summary>Who produced it (a device id or "exporter"), for the operator's eyes.</summary>
    public required string Producer { get; init; }
    public required string CreatedUtc { get; init; }
}
