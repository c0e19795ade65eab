using System.Text.Json;
using EdgeAgent.Compression.Versioning;

namespace EdgeAgent.Compression.Bundles;

/// <summary>
/// The rules a manifest must satisfy beyond being JSON of the right shape. Applied both when packing
/// (so no tool writes a bundle a device would refuse) and when reading.
/// </summary>
internal static class ManifestValidator
{
    public const int MaxNameLength = 128;
    public const int MaxLabels = 65536;
    public const int MaxLabelLength = 256;
    public const int MaxTensors = 1024;

    private static readonly HashSet<string> s_elementTypes = new(StringComparer.Ordinal)
    {
        "float32", "float16", "bfloat16", "float64", "int8", "uint8", "int16", "uint16", "int32", "uint32",
        "int64", "uint64", "bool", "string",
    };

    public static void Validate(BundleManifest m)
    {
        if (m.Name is null || !IsValidName(m.Name))
            throw Error("name", $"'{m.Name}' must be 1-{MaxNameLength} characters of A-Z a-z 0-9 . _ -");
        if (m.Version is null) throw Error("version", "is missing");
        if (!SemanticVersion.TryParse(m.Version, out _, out var why))
            throw Error("version", $"'{m.Version}' is not a semantic version ({why})");
        if (m.ParentVersion is not null)
        {
            if (!SemanticVersion.TryParse(m.ParentVersion, out var parent, out var whyParent))
                throw Error("parentVersion", $"'{m.ParentVersion}' is not a semantic version ({whyParent})");
            if (parent >= SemanticVersion.Parse(m.Version))
                throw Error("parentVersion", $"{m.ParentVersion} must be lower than version {m.Version}");
        }
        if (m.ModelFormat != "onnx") throw Error("modelFormat", $"'{m.ModelFormat}' is not supported (only 'onnx')");
        if (m.ModelSha256 is null || m.ModelSha256.Length != 64 || !m.ModelSha256.All(c => c is >= '0' and <= '9' or >= 'a' and <= 'f'))
            throw Error("modelSha256", "must be 64 lower-case hex digits");
        if (m.ModelBytes <= 0 || m.ModelBytes > BundleLayout.MaxModelBytes)
            throw Error("modelBytes", $"{m.ModelBytes} is outside 1..{BundleLayout.MaxModelBytes}");
        ValidateTensors("inputs", m.Inputs, requireNonEmpty: true);
        ValidateTensors("outputs", m.Outputs, requireNonEmpty: true);
        ValidateLabels(m.Labels);
        if (m.Preprocess is { } pre && pre.ValueKind != JsonValueKind.Object)
            throw Error("preprocess", $"must be a JSON object, not {pre.ValueKind}");
        if (m.Trainable is { } head) ValidateHead(head);
        if (m.CreatedUtc is null || !DateTimeOffset.TryParse(m.CreatedUtc, System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out _))
            throw Error("createdUtc", $"'{m.CreatedUtc}' is not an ISO 8601 time");
        if (string.IsNullOrWhiteSpace(m.Producer) || m.Producer.Length > 256)
            throw Error("producer", "must be 1-256 characters");
    }

    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= MaxNameLength &&
        name.All(c => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '.' or '_' or '-');

    private static void ValidateTensors(string field, TensorSpec[]? tensors, bool requireNonEmpty)
    {
        if (tensors is null) throw Error(field, "is missing");
        if (requireNonEmpty && tensors.Length == 0) throw Error(field, "is empty; a model has at least one");
        if (tensors.Length > MaxTensors) throw Error(field, $"has {tensors.Length} entries (limit {MaxTensors})");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < tensors.Length; i++)
        {
            var t = tensors[i];
            var at = $"{field}[{i}]";
            if (t is null) throw Error(at, "is null");
            if (string.IsNullOrEmpty(t.Name) || t.Name.Length > 1024) throw Error(at + ".name", "must be 1-1024 characters");
            if (!seen.Add(t.Name)) throw Error(at + ".name", $"'{t.Name}' appears twice");
            if (t.ElementType is null || !s_elementTypes.Contains(t.ElementType))
                throw Error(at + ".elementType", $"'{t.ElementType}' is not a known element type");
            if (t.Shape is null) throw Error(at + ".shape", "is missing");
            if (t.Shape.Length > 16) throw Error(at + ".shape", $"rank {t.Shape.Length} exceeds 16");
            foreach (var d in t.Shape)
                if (d < -1) throw Error(at + ".shape", $"dimension {d} (use -1 for a symbolic dimension)");
        }
    }

    private static void ValidateLabels(string[]? labels)
    {
        if (labels is null) throw Error("labels", "must be an array (empty when there are none)");
        if (labels.Length > MaxLabels) throw Error("labels", $"{labels.Length} labels exceed the limit of {MaxLabels}");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < labels.Length; i++)
        {
            var label = labels[i];
            if (string.IsNullOrWhiteSpace(label) || label.Length > MaxLabelLength)
                throw Error($"labels[{i}]", $"must be 1-{MaxLabelLength} characters and not blank");
            if (!seen.Add(label)) throw Error($"labels[{i}]", $"'{label}' appears twice");
        }
    }

    private static void ValidateHead(TrainableHead head)
    {
        if (head.Nodes is null || head.Nodes.Length == 0) throw Error("trainable.nodes", "must name at least one node");
        if (head.Initializers is null) throw Error("trainable.initializers", "is missing");
        for (int i = 0; i < head.Nodes.Length; i++)
            if (string.IsNullOrEmpty(head.Nodes[i])) throw Error($"trainable.nodes[{i}]", "is empty");
        for (int i = 0; i < head.Initializers.Length; i++)
            if (string.IsNullOrEmpty(head.Initializers[i])) throw Error($"trainable.initializers[{i}]", "is empty");
    }

    private static BundleFormatException Error(string field, string message) => new("manifest." + field, message);

    public static BundleManifest Parse(ReadOnlySpan<byte> json)
    {
        BundleManifest? manifest;
        try
        {
            manifest = JsonSerializer.Deserialize(json, BundleJsonContext.Default.BundleManifest);
        }
        catch (JsonException e)
        {
            var path = e.Path is { Length: > 1 } p ? p.TrimStart('$', '.') : "";
            throw new BundleFormatException(path.Length > 0 ? "manifest." + path : "manifest", $"invalid JSON: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new BundleFormatException("manifest", $"invalid JSON: {e.Message}", e);
        }
        if (manifest is null) throw new BundleFormatException("manifest", "is JSON null");
        Validate(manifest);
        return manifest;
    }

    public static byte[] Serialize(BundleManifest manifest) =>
        JsonSerializer.SerializeToUtf8Bytes(manifest, BundleJsonContext.Default.BundleManifest);
}
