using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Compression.Evaluation;

/// <summary>Static facts about a model: parameter count and per-layer multiply-accumulates.</summary>
public static class ModelStatistics
{
    /// <summary>Elements of weight-like initializers (quantization scales and zero points excluded).</summary>
    public static long Parameters(OnnxModel model)
    {
        var qParams = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in model.Graph.Nodes)
            if (n.OpType is "QuantizeLinear" or "DequantizeLinear")
                for (int k = 1; k < n.Inputs.Count; k++) qParams.Add(n.Inputs[k]);
        return model.Graph.Initializers.Where(kv => !qParams.Contains(kv.Key)).Sum(kv => (long)kv.Value.ElementCount);
    }

    /// <summary>The float or int8 weight tensor behind input <paramref name="index"/> of a node (through a DequantizeLinear).</summary>
    public static Tensor? WeightOf(Graph graph, Node node, int index)
    {
        if (node.InputOrNull(index) is not { } name) return null;
        if (graph.Initializers.TryGetValue(name, out var t)) return t;
        var producer = graph.Producer(name);
        if (producer is { OpType: "DequantizeLinear" } && graph.Initializers.TryGetValue(producer.Inputs[0], out var q)) return q;
        return null;
    }

    /// <summary>MACs of one weight layer for one sample, given the element count of its output for that sample.</summary>
    public static long Macs(Graph graph, Node node, long outputElements)
    {
        var w = WeightOf(graph, node, 1);
        if (w is null) return 0;
        return node.OpType switch
        {
            "Conv" => outputElements * (w.ElementCount / Math.Max(1, w.Shape[0])),
            "Gemm" => outputElements * (node.GetInt("transB", 0) != 0 ? w.Shape[1] : w.Shape[0]),
            "MatMul" => outputElements * w.Shape[0],
            _ => 0,
        };
    }

    public static bool IsWeightLayer(Node node) => node.OpType is "Conv" or "Gemm" or "MatMul";
}
