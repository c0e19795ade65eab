using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;

namespace EdgeAgent.Runtime.Training;

/// <summary>
/// Between the training engine's <see cref="OnnxGraphSpec"/> and the runtime's ONNX IR: a trained
/// network becomes an <see cref="OnnxModel"/> the runtime's writer saves and its session runs, and a
/// float chain model loaded by the runtime becomes a trainable network again.
/// </summary>
public static class OnnxModelBridge
{
    /// <summary>The network as an ONNX model (opset 17, batch dimension "N").</summary>
    public static OnnxModel ToOnnxModel(this Network network, string name = "edgeagent", bool appendSoftmax = false) =>
        ToOnnxModel(network.ToOnnxGraph(name, appendSoftmax: appendSoftmax));

    public static OnnxModel ToOnnxModel(OnnxGraphSpec spec)
    {
        var graph = new Graph { Name = spec.Name };
        Dim[] Shape(int[] sample) => [Dim.Symbolic("N"), .. sample.Select(d => Dim.Known(d))];
        graph.Inputs.Add(new ValueInfo(spec.InputName, DataType.Float, Shape(spec.InputShape)));
        graph.Outputs.Add(new ValueInfo(spec.OutputName, DataType.Float, Shape(spec.OutputShape)));
        foreach (var init in spec.Initializers)
            graph.Initializers[init.Name] = Tensor.FromArray<float>(init.Data, init.Shape);
        foreach (var n in spec.Nodes)
        {
            var node = new Node(n.OpType, n.Inputs, n.Outputs, n.Name);
            foreach (var a in n.Attributes)
                node.Attributes.Add(a switch
                {
                    { Int: { } i } => NodeAttribute.Of(a.Name, i),
                    { Float: { } f } => NodeAttribute.Of(a.Name, f),
                    { Ints: { } ints } => NodeAttribute.Of(a.Name, ints),
                    { String: { } s } => NodeAttribute.Of(a.Name, s),
                    _ => throw new InvalidOperationException($"node '{n.Name}': attribute '{a.Name}' has no value"),
                });
            graph.Nodes.Add(node);
        }
        var model = OnnxModel.Create(graph, spec.Opset);
        model.ProducerName = "EdgeAgent training engine";
        return model;
    }

    /// <summary>Writes the network as an .onnx file through the runtime's writer.</summary>
    public static void SaveOnnx(this Network network, string path, bool appendSoftmax = false) =>
        OnnxWriter.Save(network.ToOnnxModel(Path.GetFileNameWithoutExtension(path), appendSoftmax), path);

    /// <summary>A float chain model as a graph spec (what <see cref="OnnxGraphImport"/> turns into a network).</summary>
    public static OnnxGraphSpec ToGraphSpec(OnnxModel model)
    {
        var g = model.Graph;
        var inputs = g.RuntimeInputs.ToList();
        if (inputs.Count != 1 || g.Outputs.Count != 1)
            throw new NotSupportedException($"model '{g.Name}': a trainable model has one input and one output, it has {inputs.Count} and {g.Outputs.Count}");
        int[] Sample(ValueInfo v)
        {
            if (v.Shape is null || v.Shape.Count < 2 || v.Shape.Skip(1).Any(d => d.Value is null))
                throw new NotSupportedException($"'{v.Name}': needs a known shape after the batch dimension, has {v}");
            if (v.ElementType != DataType.Float) throw new NotSupportedException($"'{v.Name}' is {v.ElementType}; only float models are trainable");
            return v.Shape.Skip(1).Select(d => (int)d.Value!.Value).ToArray();
        }
        var initializers = new List<OnnxInitializerSpec>();
        foreach (var (name, t) in g.Initializers)
        {
            if (t.DataType != DataType.Float) continue; // e.g. int64 shapes; a node needing them is rejected by the importer
            initializers.Add(new OnnxInitializerSpec(name, t.Shape.ToArray(), t.ToArray<float>()));
        }
        var nodes = g.Nodes.Select(n => new OnnxNodeSpec(n.OpType, n.Name, n.Inputs.ToArray(), n.Outputs.ToArray(),
            n.Attributes.Select(a => a.Kind switch
            {
                AttributeKind.Int => OnnxAttributeSpec.Of(a.Name, a.Int),
                AttributeKind.Float => OnnxAttributeSpec.Of(a.Name, a.Float),
                AttributeKind.Ints => OnnxAttributeSpec.Of(a.Name, a.Ints),
                AttributeKind.String => new OnnxAttributeSpec(a.Name, String: a.String),
                _ => new OnnxAttributeSpec(a.Name),
            }).ToArray())).ToList();
        var output = g.Outputs[0];
        int[] outputShape = output.Shape is { Count: >= 2 } s && s.Skip(1).All(d => d.Value is not null) ? Sample(output) : [];
        return new OnnxGraphSpec(g.Name, model.OnnxOpset, inputs[0].Name, Sample(inputs[0]), output.Name, outputShape, nodes, initializers);
    }

    /// <summary>A float chain model loaded by the runtime, as a trainable network.</summary>
    public static Network ToNetwork(OnnxModel model, out bool endsWithSoftmax) =>
        OnnxGraphImport.ToNetwork(ToGraphSpec(model), out endsWithSoftmax);
}
