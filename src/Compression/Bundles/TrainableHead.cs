namespace EdgeAgent.Compression.Bundles;

/// <summary>
/// The trailing layers the device may retrain: the graph nodes (in execution order) and the
/// initializers they own. Everything else in the model is frozen, which is what lets a weight delta
/// carry only these tensors.
/// </summary>
public sealed record TrainableHead
{
    public required string[] Nodes { get; init; }
    public required string[] Initializers { get; init; }

    public bool Equals(TrainableHead? other) =>
        other is not null && Nodes.AsSpan().SequenceEqual(other.Nodes) && Initializers.AsSpan().SequenceEqual(other.Initializers);

    public override int GetHashCode() => HashCode.Combine(Nodes.Length, Initializers.Length);
}
