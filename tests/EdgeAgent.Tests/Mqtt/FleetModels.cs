using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Data;
using EdgeAgent.Compression.Deltas;
using EdgeAgent.Compression.Quantization;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;

namespace EdgeAgent.Tests.Mqtt;

/// <summary>
/// Real models for the delta and fleet tests: a three-layer MLP body and a 10-class Gemm head, quantized to QDQ int8 by
/// the same quantizer the exporter uses, packed with the head marked trainable (as <c>exporter pack --trainable-head auto</c>).
/// <see cref="UpdateHead"/> stands in for an on-device update: it changes only the head's real weights and requantizes.
/// </summary>
internal static class FleetModels
{
    public const string Name = "fleet-mlp";
    public static readonly string[] Labels = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9"];

    public static byte[] BaseBundle(BundleSigningKey key, string version = "1.0.0")
    {
        var random = new Random(42);
        float[] Weights(int rows, int cols) => Enumerable.Range(0, rows * cols).Select(_ => (float)(random.NextDouble() * 2 - 1) / MathF.Sqrt(cols)).ToArray();
        float[] Bias(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 0.2 - 0.1)).ToArray();

        var graph = new Graph { Name = "fleet" };
        graph.Inputs.Add(new ValueInfo("x", DataType.Float, [Dim.Symbolic("N"), Dim.Known(64)]));
        graph.Outputs.Add(new ValueInfo("logits", DataType.Float, [Dim.Symbolic("N"), Dim.Known(10)]));
        string previous = "x";
        int width = 64;
        foreach (var (name, outWidth) in new[] { ("fc1", 512), ("fc2", 512), ("fc3", 256) })
        {
            graph.Initializers[name + ".weight"] = Tensor.FromArray<float>(Weights(outWidth, width), outWidth, width);
            graph.Initializers[name + ".bias"] = Tensor.FromArray<float>(Bias(outWidth), outWidth);
            graph.Nodes.Add(new Node("Gemm", [previous, name + ".weight", name + ".bias"], [name + ".out"], name).With(NodeAttribute.Of("transB", 1L)));
            graph.Nodes.Add(new Node("Relu", [name + ".out"], [name + ".relu"], name + ".act"));
            previous = name + ".relu";
            width = outWidth;
        }
        graph.Initializers["head.weight"] = Tensor.FromArray<float>(Weights(10, width), 10, width);
        graph.Initializers["head.bias"] = Tensor.FromArray<float>(Bias(10), 10);
        graph.Nodes.Add(new Node("Gemm", [previous, "head.weight", "head.bias"], ["logits"], "head").With(NodeAttribute.Of("transB", 1L)));
        var model = OnnxModel.Create(graph, 17);

        var samples = Enumerable.Range(0, 16).Select(_ => new[] { Tensor.FromArray<float>(Enumerable.Range(0, 64).Select(_ => (float)random.NextDouble()).ToArray(), 1, 64) }).ToList();
        _ = QdqQuantizer.Quantize(model, new SampleSet(["x"], samples, null, "random"), new QuantizeOptions());
        byte[] onnx = OnnxWriter.ToBytes(model);
        var summary = OnnxModelSummary.Read(onnx, "fleet-mlp.onnx");
        var manifest = new BundleManifest
        {
            Name = Name,
            Version = version,
            ModelFormat = "onnx",
            ModelSha256 = "",
            ModelBytes = onnx.Length,
            Inputs = [.. summary.Inputs],
            Outputs = [.. summary.Outputs],
            Labels = Labels,
            Trainable = summary.FindTrainableHead(null),
            CreatedUtc = "2026-11-23T10:00:00Z",
            Producer = "edgeagent tests",
        };
        return ModelBundle.Create(manifest, onnx, key);
    }

    /// <summary>
    /// An on-device update of <paramref name="baseBundle"/>: every head weight and bias moves by up to
    /// <paramref name="step"/> (real units), requantized; the body is untouched. Signed by <paramref name="key"/>.
    /// </summary>
    public static byte[] UpdateHead(byte[] baseBundle, string version, int seed, BundleSigningKey key, float step = 0.02f)
    {
        var bundle = ModelBundle.Read(baseBundle);
        var tensors = BundleWeights.ReadTrainable(bundle).ToDictionary(t => t.Name, StringComparer.Ordinal);
        var layer = BundleWeights.FindQuantizedLayers(bundle).Single();
        var (weights, bias) = layer.Dequantize(tensors);
        var random = new Random(seed);
        for (int i = 0; i < weights.Length; i++) weights[i] += (float)(random.NextDouble() * 2 - 1) * step;
        for (int i = 0; i < bias!.Length; i++) bias[i] += (float)(random.NextDouble() * 2 - 1) * step;
        foreach (var t in layer.Requantize(tensors, weights, bias)) tensors[t.Name] = t;
        return BundleWeights.Repack(bundle, [.. tensors.Values], version, "edgeagent tests (on-device update)", key);
    }
}
