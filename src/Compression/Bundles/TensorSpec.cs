namespace EdgeAgent.Compression.Bundles;

/// <summary>
/// One model input or output as the manifest records it. <see cref="Shape"/> uses -1 for a dimension
/// that is symbolic or unknown (typically the batch).
/// </summary>
public sealed record TensorSpec
{
    public required string Name { get; init; }
    /// <summary>ONNX element type in lower case: "float32", "uint8", "int8", "int64", ...</summary>
    public required string ElementType { get; init; }
    public required long[] Shape { get; init; }

    public bool Equals(TensorSpec? other) =>
        other is not null && Name == other.Name && ElementType == other.ElementType && Shape.AsSpan().SequenceEqual(other.Shape);

    public override int GetHashCode() => HashCode.Combine(Name, ElementType, Shape.Length);
}
