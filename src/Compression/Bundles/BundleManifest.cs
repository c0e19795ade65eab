using System.Text.Json;

namespace EdgeAgent.Compression.Bundles;

/// <summary>
/// What a bundle says about its model. Serialised as UTF-8 JSON (camelCase) into the bundle and
/// covered by the signature; see docs/bundle-format.md.
/// </summary>
public sealed record BundleManifest
{
    /// <summary>Model name: 1-128 characters of [A-Za-z0-9._-].</summary>
    public required string Name { get; init; }
    /// <summary>Semantic version of this model.</summary>
    public required string Version { get; init; }
    /// <summary>Version this one was derived from (fine-tuned, fleet-averaged, ...), if any.</summary>
    public string? ParentVersion { get; init; }
    /// <summary>"onnx" for now; names how the model section is to be read.</summary>
    public required string ModelFormat { get; init; }
    /// <summary>Lower-case hex SHA-256 of the model section.</summary>
    public required string ModelSha256 { get; init; }
    public required long ModelBytes { get; init; }
    public required TensorSpec[] Inputs { get; init; }
    public required TensorSpec[] Outputs { get; init; }
    /// <summary>Class names, index i naming output i; empty when the model is not a classifier.</summary>
    public string[] Labels { get; init; } = [];
    /// <summary>Free-form preprocessing description (a JSON object) the device applies before inference.</summary>
    public JsonElement? Preprocess { get; init; }
    /// <summary>Layers the device may train; null means the device must not train this model.</summary>
    public TrainableHead? Trainable { get; init; }
    /// <summary>ISO 8601 UTC time of packing.</summary>
    public required string CreatedUtc { get; init; }
    /// <summary>The tool and version that packed the bundle, e.g. "exporter 0.1.0".</summary>
    public required string Producer { get; init; }
}
