using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeAgent.Compression.Distribution;

/// <summary>Source-generated JSON for the transfer types: no reflection, so NativeAOT and trimming keep working.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, WriteIndented = false)]
[JsonSerializable(typeof(TransferManifest))]
internal sealed partial class DistributionJsonContext : JsonSerializerContext;

public static class TransferManifestJson
{
    public static byte[] Serialize(TransferManifest manifest) =>
        JsonSerializer.SerializeToUtf8Bytes(manifest, DistributionJsonContext.Default.TransferManifest);

    /// <summary>Parses and validates; any problem becomes a <see cref="TransferException"/> that says what is wrong.</summary>
    public static TransferManifest Parse(ReadOnlySpan<byte> utf8)
    {
        TransferManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(utf8, DistributionJsonContext.Default.TransferManifest);
        }
        catch (JsonException e)
        {
            throw new TransferException($"manifest is not valid JSON: {e.Message}", e);
        }
        if (manifest is null) throw new TransferException("manifest is JSON null");
        manifest.Validate();
        return manifest;
    }
}
