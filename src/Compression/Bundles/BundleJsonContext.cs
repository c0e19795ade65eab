using System.Text.Json.Serialization;

namespace EdgeAgent.Compression.Bundles;

/// <summary>
/// Source-generated JSON metadata (NativeAOT has no reflection-based serializer). Unknown members are
/// refused so a manifest means exactly what this format version defines.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false,
    WriteIndented = true)]
[JsonSerializable(typeof(BundleManifest))]
[JsonSerializable(typeof(Deltas.DeltaMetadata))]
internal sealed partial class BundleJsonContext : JsonSerializerContext;
