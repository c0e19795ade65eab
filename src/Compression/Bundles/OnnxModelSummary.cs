using Google.Protobuf;

namespace EdgeAgent.Compression.Bundles;

/// <summary>
/// What packing needs to know about an ONNX model without loading its weights: graph inputs and
/// outputs (types and shapes), nodes in order and the initializer names. Reads the protobuf wire
/// format directly and skips tensor payloads, so it is cheap even for large models.
/// </summary>
public sealed class OnnxModelSummary
{
    public required IReadOnlyList<TensorSpec> Inputs { get; init; }
    public required IReadOnlyList<TensorSpec> Outputs { get; init; }
    public required IReadOnlyList<OnnxNodeSummary> Nodes { get; init; }
    public required IReadOnlySet<string> Initializers { get; init; }

    // Field numbers from onnx.proto.
    private const int ModelGraph = 7;
    private const int GraphNode = 1, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12;
    private const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4;
    private const int TensorName = 8;
    private const int ValueInfoName = 1, ValueInfoType = 2;
    private const int TypeTensor = 1, TensorElemType = 1, TensorShape = 2;
    private const int ShapeDim = 1, DimValue = 1;

    public static OnnxModelSummary Read(ReadOnlySpan<byte> model, string source = "model")
    {
        try
        {
            var input = new CodedInputStream(model.ToArray());
            ByteString? graph = null;
            uint tag;
            while ((tag = input.ReadTag()) != 0)
            {
                if (WireFormat.GetTagFieldNumber(tag) == ModelGraph && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                    graph = input.ReadBytes();
                else input.SkipLastField();
            }
            if (graph is null) throw new InvalidDataException($"{source}: not an ONNX model (no graph)");
            return ReadGraph(graph, source);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException($"{source}: not a valid ONNX protobuf ({e.Message})", e);
        }
    }

    private static OnnxModelSummary ReadGraph(ByteString graph, string source)
    {
        var nodes = new List<OnnxNodeSummary>();
        var initializers = new HashSet<string>(StringComparer.Ordinal);
        var inputs = new List<TensorSpec>();
        var outputs = new List<TensorSpec>();
        var g = graph.CreateCodedInput();
        uint tag;
        while ((tag = g.ReadTag()) != 0)
        {
            if (WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited) { g.SkipLastField(); continue; }
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case GraphNode: nodes.Add(ReadNode(g.ReadBytes(), nodes.Count)); break;
                case GraphInitializer: initializers.Add(ReadTensorName(g.ReadBytes())); break;
                case GraphInput: inputs.Add(ReadValueInfo(g.ReadBytes())); break;
                case GraphOutput: outputs.Add(ReadValueInfo(g.ReadBytes())); break;
                default: g.SkipLastField(); break;
            }
        }
        if (outputs.Count == 0) throw new InvalidDataException($"{source}: the graph has no outputs");
        // Before IR version 4 initializers were also listed as inputs; they are not inputs a caller feeds.
        inputs.RemoveAll(i => initializers.Contains(i.Name));
        if (inputs.Count == 0) throw new InvalidDataException($"{source}: the graph has no inputs");
        return new OnnxModelSummary { Inputs = inputs, Outputs = outputs, Nodes = nodes, Initializers = initializers };
    }

    private static OnnxNodeSummary ReadNode(ByteString bytes, int index)
    {
        var inputs = new List<string>();
        var outputs = new List<string>();
        string name = "", opType = "";
        var s = bytes.CreateCodedInput();
        uint tag;
        while ((tag = s.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case NodeInput: inputs.Add(s.ReadString()); break;
                case NodeOutput: outputs.Add(s.ReadString()); break;
                case NodeName: name = s.ReadString(); break;
                case NodeOpType: opType = s.ReadString(); break;
                default: s.SkipLastField(); break;
            }
        }
        return new OnnxNodeSummary(name.Length > 0 ? name : $"{opType}_{index}", opType, inputs, outputs);
    }

    private static string ReadTensorName(ByteString bytes)
    {
        var s = bytes.CreateCodedInput();
        uint tag;
        string name = "";
        while ((tag = s.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == TensorName) name = s.ReadString();
            else s.SkipLastField();
        }
        return name;
    }

    private static TensorSpec ReadValueInfo(ByteString bytes)
    {
        var s = bytes.CreateCodedInput();
        string name = "";
        int elemType = 0;
        var shape = new List<long>();
        uint tag;
        while ((tag = s.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == ValueInfoName) { name = s.ReadString(); continue; }
            if (WireFormat.GetTagFieldNumber(tag) != ValueInfoType) { s.SkipLastField(); continue; }
            var type = s.ReadBytes().CreateCodedInput();
            uint t;
            while ((t = type.ReadTag()) != 0)
            {
                if (WireFormat.GetTagFieldNumber(t) != TypeTensor) { type.SkipLastField(); continue; }
                var tensor = type.ReadBytes().CreateCodedInput();
                uint u;
                while ((u = tensor.ReadTag()) != 0)
                {
                    if (WireFormat.GetTagFieldNumber(u) == TensorElemType) elemType = tensor.ReadInt32();
                    else if (WireFormat.GetTagFieldNumber(u) == TensorShape)
                    {
                        var shapeInput = tensor.ReadBytes().CreateCodedInput();
                        uint v;
                        while ((v = shapeInput.ReadTag()) != 0)
                        {
                            if (WireFormat.GetTagFieldNumber(v) != ShapeDim) { shapeInput.SkipLastField(); continue; }
                            var dim = shapeInput.ReadBytes().CreateCodedInput();
                            long value = -1;
                            uint w;
                            while ((w = dim.ReadTag()) != 0)
                            {
                                if (WireFormat.GetTagFieldNumber(w) == DimValue) value = dim.ReadInt64();
                                else dim.SkipLastField();
                            }
                            shape.Add(value >= 0 ? value : -1);
                        }
                    }
                    else tensor.SkipLastField();
                }
            }
        }
        return new TensorSpec { Name = name, ElementType = ElementTypeName(elemType), Shape = [.. shape] };
    }

    /// <summary>ONNX TensorProto.DataType number to the manifest's element type name.</summary>
    public static string ElementTypeName(int onnxType) => onnxType switch
    {
        1 => "float32", 2 => "uint8", 3 => "int8", 4 => "uint16", 5 => "int16", 6 => "int32", 7 => "int64",
        8 => "string", 9 => "bool", 10 => "float16", 11 => "float64", 12 => "uint32", 13 => "uint64", 16 => "bfloat16",
        _ => throw new InvalidDataException($"element type {onnxType} is not supported in a bundle manifest"),
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
