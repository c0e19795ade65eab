using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;

namespace EdgeAgent.Compression.Bundles;

/// <summary>
/// What packing needs to know about an ONNX model: graph inputs and outputs (types and shapes), nodes
/// in order and the initializer names. Read through the runtime's own ONNX reader and validator, so a
/// model is packed only if the device's runtime can parse it, and both sides agree on what it contains.
/// </summary>
public sealed class OnnxModelSummary
{
    public required IReadOnlyList<TensorSpec> Inputs { get; init; }
    public required IReadOnlyList<TensorSpec> Outputs { get; init; }
    public required IReadOnlyList<OnnxNodeSummary> Nodes { get; init; }
    public required IReadOnlySet<string> Initializers { get; init; }

    /// <summary>Parses <paramref name="model"/>; an unparsable or invalid model is an <see cref="InvalidDataException"/> naming <paramref name="source"/>.</summary>
    public static OnnxModelSummary Read(ReadOnlySpan<byte> model, string source = "model")
    {
        OnnxModel parsed;
        try { parsed = OnnxReader.Load(model.ToArray(), fileName: source); }
        catch (ModelLoadException e)
        {
            string message = e.Message.StartsWith(source, StringComparison.Ordinal) ? e.Message : $"{source}: {e.Message}";
            throw new InvalidDataException($"{message} (the model must be one EdgeAgent's runtime can read)", e);
        }
        return FromGraph(parsed.Graph, source);
    }

    /// <summary>The summary of a graph already in memory.</summary>
    public static OnnxModelSummary FromGraph(Graph graph, string source = "model")
    {
        var initializers = new HashSet<string>(graph.Initializers.Keys, StringComparer.Ordinal);
        // Before IR version 4 initializers were also listed as inputs; they are not inputs a caller feeds.
        var inputs = graph.Inputs.Where(i => !initializers.Contains(i.Name)).Select(i => Spec(i, source)).ToList();
        var outputs = graph.Outputs.Select(o => Spec(o, source)).ToList();
        if (outputs.Count == 0) throw new InvalidDataException($"{source}: the graph has no outputs");
        if (inputs.Count == 0) throw new InvalidDataException($"{source}: the graph has no inputs");
        var nodes = graph.Nodes.Select((n, i) => new OnnxNodeSummary(n.Name.Length > 0 ? n.Name : $"{n.OpType}_{i}", n.OpType, [.. n.Inputs], [.. n.Outputs])).ToList();
        return new OnnxModelSummary { Inputs = inputs, Outputs = outputs, Nodes = nodes, Initializers = initializers };
    }

    // A symbolic or unknown dimension (typically the batch) is -1 in the manifest; an unknown rank is no dims.
    private static TensorSpec Spec(ValueInfo value, string source) => new()
    {
        Name = value.Name,
        ElementType = ElementTypeName(value.ElementType, $"{source}: '{value.Name}'"),
        Shape = value.Shape?.Select(d => d.Value is { } v && v >= 0 ? v : -1).ToArray() ?? [],
    };

    /// <summary>The manifest's element type name ("float32", "int8", ...) of a graph input or output.</summary>
    public static string ElementTypeName(DataType type, string where) => type switch
    {
        DataType.Float or DataType.UInt8 or DataType.Int8 or DataType.UInt16 or DataType.Int16 or DataType.Int32 or DataType.Int64
            or DataType.String or DataType.Bool or DataType.Float16 or DataType.Double or DataType.UInt32 or DataType.UInt64
            or DataType.BFloat16 => type.ToName(),
        _ => throw new InvalidDataException($"{where}: element type {type.ToName()} is not supported in a bundle manifest"),
    };

    private static readonly HashSet<string> s_weightOps = new(StringComparer.Ordinal) { "Gemm", "MatMul", "Conv", "ConvTranspose", "QLinearMatMul", "QLinearConv", "MatMulInteger", "ConvInteger" };

    /// <summary>
    /// The trainable head: with <paramref name="fromNode"/> = null ("auto"), the last layer with weights
    /// on the path to the first output; otherwise every node from the named one to the output. Includes
    /// the DequantizeLinear nodes that feed the head's weights in a QDQ model, and their initializers.
    /// </summary>
    public TrainableHead FindTrainableHead(string? fromNode)
    {
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < Nodes.Count; i++)
            foreach (var o in Nodes[i].Outputs) producer[o] = i;

        // Nodes the first output depends on.
        var onPath = new HashSet<int>();
        var stack = new Stack<string>([Outputs[0].Name]);
        while (stack.Count > 0)
        {
            var value = stack.Pop();
            if (!producer.TryGetValue(value, out int n) || !onPath.Add(n)) continue;
            foreach (var i in Nodes[n].Inputs) if (i.Length > 0) stack.Push(i);
        }

        int start;
        if (fromNode is null)
        {
            start = -1;
            for (int i = Nodes.Count - 1; i >= 0; i--)
            {
                if (onPath.Contains(i) && s_weightOps.Contains(Nodes[i].OpType) && WeightInitializers(i, producer).Any()) { start = i; break; }
            }
            if (start < 0) throw new InvalidOperationException("no layer with weights (Gemm, MatMul, Conv) leads to the first output; name the head's first node with --trainable-head NODE");
        }
        else
        {
            start = -1;
            for (int i = 0; i < Nodes.Count; i++) if (Nodes[i].Name == fromNode) { start = i; break; }
            if (start < 0) throw new InvalidOperationException($"no node named '{fromNode}' in the model (nodes: {string.Join(", ", Nodes.Take(12).Select(n => n.Name))}{(Nodes.Count > 12 ? ", ..." : "")})");
        }

        // Everything downstream of the start node, plus the weight DequantizeLinear nodes feeding it.
        var head = new SortedSet<int> { start };
        var reached = new HashSet<string>(Nodes[start].Outputs, StringComparer.Ordinal);
        for (int i = start + 1; i < Nodes.Count; i++)
        {
            if (Nodes[i].Inputs.Any(reached.Contains))
            {
                head.Add(i);
                foreach (var o in Nodes[i].Outputs) reached.Add(o);
            }
        }
        var initializers = new List<string>();
        foreach (var n in head.ToList())
        {
            // Quantize/Dequantize of activations carry calibration ranges, not trainable weights.
            if (Nodes[n].OpType is "QuantizeLinear" or "DequantizeLinear") continue;
            foreach (var (init, dq) in WeightInitializersWithProducers(n, producer))
            {
                if (!initializers.Contains(init)) initializers.Add(init);
                if (dq >= 0) head.Add(dq);
            }
        }
        return new TrainableHead { Nodes = head.Select(i => Nodes[i].Name).ToArray(), Initializers = [.. initializers] };
    }

    private IEnumerable<string> WeightInitializers(int node, Dictionary<string, int> producer) =>
        WeightInitializersWithProducers(node, producer).Select(p => p.Initializer);

    // Initializers a node uses directly, or through a DequantizeLinear whose data input is an initializer.
    private IEnumerable<(string Initializer, int Dequantize)> WeightInitializersWithProducers(int node, Dictionary<string, int> producer)
    {
        foreach (var input in Nodes[node].Inputs)
        {
            if (Initializers.Contains(input)) { yield return (input, -1); continue; }
            if (producer.TryGetValue(input, out int p) && Nodes[p].OpType == "DequantizeLinear" &&
                Nodes[p].Inputs.Count > 0 && Initializers.Contains(Nodes[p].Inputs[0]))
            {
                foreach (var i in Nodes[p].Inputs) if (Initializers.Contains(i)) yield return (i, p);
            }
        }
    }
}

/// <summary>One node of an ONNX graph, as far as packing cares.</summary>
public sealed record OnnxNodeSummary(string Name, string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);
