using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;

namespace EdgeAgent.Compression.Deltas;

/// <summary>
/// The trainable tensors of a signed bundle (its manifest's <c>trainable.initializers</c>) as <see cref="WeightTensor"/>s,
/// and the way back: a new signed bundle that is the base bundle with those tensors replaced. Deltas are computed
/// between two bundles' trainable tensors and applied to a base bundle through this.
/// </summary>
public static class BundleWeights
{
    /// <summary>The bundle's trainable initializers, in manifest order.</summary>
    public static IReadOnlyList<WeightTensor> ReadTrainable(ModelBundle bundle)
    {
        var head = RequireHead(bundle);
        var graph = LoadModel(bundle).Graph;
        var result = new List<WeightTensor>(head.Initializers.Length);
        foreach (var name in head.Initializers)
        {
            if (!graph.Initializers.TryGetValue(name, out var tensor))
                throw new BundleFormatException("manifest.trainable.initializers", $"'{name}' is not an initializer of the model in {Describe(bundle)}");
            result.Add(ToWeight(name, tensor, bundle));
        }
        return result;
    }

    /// <summary>
    /// The delta from <paramref name="baseBundle"/> to <paramref name="updated"/> (an on-device update of it): both must
    /// be the same model with the same trainable head; the delta carries only the trainable tensors (the rest is frozen). The delta is bound to the
    /// base model's hash; <paramref name="classSamples"/> (class → labelled samples) gives its averaging weight.
    /// </summary>
    public static WeightDelta Diff(ModelBundle baseBundle, ModelBundle updated, IReadOnlyDictionary<string, long> classSamples, string producer)
    {
        if (baseBundle.Manifest.Name != updated.Manifest.Name)
            throw new ArgumentException($"the updated bundle is model '{updated.Manifest.Name}', the base is '{baseBundle.Manifest.Name}'");
        var baseHead = RequireHead(baseBundle);
        if (!baseHead.Equals(RequireHead(updated)))
            throw new ArgumentException($"{Describe(updated)} has a different trainable head from its base {Describe(baseBundle)}; a delta covers only weights of the same layers");
        long samples = classSamples.Values.Sum();
        if (samples <= 0) throw new ArgumentException("an update with no labelled samples behind it cannot be averaged (every class count is 0)");
        var metadata = new DeltaMetadata
        {
            ModelName = baseBundle.Manifest.Name,
            BaseVersion = baseBundle.Manifest.Version,
            BaseModelSha256 = baseBundle.Manifest.ModelSha256,
            SampleCount = samples,
            ClassSamples = classSamples.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal),
            Producer = producer,
            CreatedUtc = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
        };
        return WeightDelta.Compute(ReadTrainable(baseBundle), ReadTrainable(updated), metadata);
    }

    /// <summary>
    /// The quantized layers among the trainable tensors: a Gemm, MatMul or Conv of the head whose weight comes from a
    /// DequantizeLinear of an int8 initializer (and whose bias, if any, from one of an int32 initializer). Averaging
    /// works on their real values; float heads have none and are averaged as they are.
    /// </summary>
    public static IReadOnlyList<QuantizedLayer> FindQuantizedLayers(ModelBundle bundle)
    {
        var head = RequireHead(bundle);
        var graph = LoadModel(bundle).Graph;
        var trainable = new HashSet<string>(head.Initializers, StringComparer.Ordinal);
        var headNodes = new HashSet<string>(head.Nodes, StringComparer.Ordinal);
        var producers = new Dictionary<string, Node>(StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
            foreach (var output in node.Outputs)
                producers[output] = node;

        (string Values, string Scale, int Axis)? Dequantized(string? value, DataType type)
        {
            if (value is null || !producers.TryGetValue(value, out var dq) || dq.OpType != "DequantizeLinear" || dq.Inputs.Count < 2) return null;
            string values = dq.Inputs[0], scale = dq.Inputs[1];
            if (!trainable.Contains(values) || !trainable.Contains(scale)) return null;
            if (!graph.Initializers.TryGetValue(values, out var v) || v.DataType != type) return null;
            if (!graph.Initializers.TryGetValue(scale, out var s) || s.DataType != DataType.Float) return null;
            int axis = (int)dq.GetInt("axis", 1);
            if (axis < 0) axis += v.Rank;
            return (values, scale, axis);
        }

        var layers = new List<QuantizedLayer>();
        foreach (var node in graph.Nodes)
        {
            if (!headNodes.Contains(node.Name) || node.OpType is not ("Gemm" or "MatMul" or "Conv")) continue;
            if (Dequantized(node.InputOrNull(1), DataType.Int8) is not { } weight) continue;
            var bias = node.OpType == "MatMul" ? null : Dequantized(node.InputOrNull(2), DataType.Int32);
            layers.Add(new QuantizedLayer(weight.Values, weight.Scale, weight.Axis, bias?.Values, bias?.Scale));
        }
        return layers;
    }

    /// <summary>
    /// A new bundle: <paramref name="baseBundle"/>'s model with <paramref name="tensors"/> replacing initializers of the
    /// same name (same type and shape), a manifest naming <paramref name="version"/> with the base as its parent, signed
    /// by <paramref name="key"/>.
    /// </summary>
    public static byte[] Repack(ModelBundle baseBundle, IReadOnlyList<WeightTensor> tensors, string version, string producer, BundleSigningKey key)
    {
        var head = RequireHead(baseBundle);
        var model = LoadModel(baseBundle);
        var trainable = new HashSet<string>(head.Initializers, StringComparer.Ordinal);
        foreach (var t in tensors)
        {
            if (!trainable.Contains(t.Name))
                throw new BundleFormatException("manifest.trainable.initializers", $"'{t.Name}' is not trainable in {Describe(baseBundle)}, so it may not change");
            var before = model.Graph.Initializers[t.Name];
            if (ToElementType(before.DataType, t.Name, baseBundle) != t.ElementType || !before.SameShape(t.Shape))
                throw new ArgumentException($"tensor '{t.Name}' is {t.ElementType} {t.ShapeText}, the base model has {before}");
            model.Graph.Initializers[t.Name] = Tensor.FromBytes(before.DataType, t.Shape, (byte[])t.Data.Clone());
        }
        var manifest = baseBundle.Manifest with
        {
            Version = version,
            ParentVersion = baseBundle.Manifest.Version,
            CreatedUtc = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
            Producer = producer,
        };
        return ModelBundle.Create(manifest, OnnxWriter.ToBytes(model), key);
    }

    private static TrainableHead RequireHead(ModelBundle bundle) =>
        bundle.Manifest.Trainable ?? throw new BundleFormatException("manifest.trainable", $"{Describe(bundle)} has no trainable head, so it has no weights a device may change");

    private static OnnxModel LoadModel(ModelBundle bundle)
    {
        try { return OnnxReader.Load(bundle.Model.ToArray(), externalDataDirectory: null, validate: false, fileName: Describe(bundle)); }
        catch (ModelLoadException e) { throw new BundleFormatException("model", $"{Describe(bundle)}: {e.Message}", e); }
    }

    private static WeightTensor ToWeight(string name, Tensor tensor, ModelBundle bundle) =>
        new(name, ToElementType(tensor.DataType, name, bundle), tensor.Shape.ToArray(), tensor.Bytes.ToArray());

    private static WeightElementType ToElementType(DataType type, string name, ModelBundle bundle) => type switch
    {
        DataType.Float => WeightElementType.Float32,
        DataType.Int8 => WeightElementType.Int8,
        DataType.UInt8 => WeightElementType.UInt8,
        DataType.Int32 => WeightElementType.Int32,
        _ => throw new BundleFormatException("manifest.trainable.initializers",
            $"'{name}' in {Describe(bundle)} is {type.ToName()}; trainable tensors must be float32, int8, uint8 or int32"),
    };

    private static string Describe(ModelBundle bundle) => $"{bundle.Manifest.Name} {bundle.Manifest.Version}";
}
