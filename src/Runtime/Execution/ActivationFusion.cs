using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Ops;

namespace EdgeAgent.Runtime.Execution;

/// <summary>
/// Folds Relu, Clip (constant bounds), LeakyRelu, HardSwish or Sigmoid into the float Conv, Gemm or MatMul
/// that produces its only input: the pair becomes one node of the same type in <see cref="QdqFusion.FusedDomain"/>
/// carrying the activation as attributes (<see cref="FusedActivation"/>), which the float kernels apply in their
/// epilogue. Runs after <see cref="QdqFusion"/>, which takes Relu/Clip between a QDQ op and its QuantizeLinear.
/// </summary>
public static class ActivationFusion
{
    public static int Run(Graph graph, long opset)
    {
        var uses = new GraphUses(graph);
        var constants = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var n in graph.Nodes)
            if (n is { OpType: "Constant", Domain: "" or "ai.onnx", Outputs.Count: 1 } && n.GetAttribute("value") is { Tensor: { } t })
                constants[n.Outputs[0]] = t;
        var removed = new HashSet<Node>();
        int fused = 0;
        for (int index = 0; index < graph.Nodes.Count; index++)
        {
            var node = graph.Nodes[index];
            if (node.Domain is not ("" or "ai.onnx") || node.OpType is not ("Conv" or "Gemm" or "MatMul") || node.Outputs.Count != 1) continue;
            if (uses.SoleConsumer(node.Outputs[0]) is not { Domain: "" or "ai.onnx" } act || removed.Contains(act)) continue;
            if (act.Inputs.Count == 0 || act.Inputs[0] != node.Outputs[0] || act.Outputs.Count != 1) continue;
            FusedActivation? activation = act.OpType switch
            {
                "Relu" => new FusedActivation(FusedActivationKind.Relu, 0, float.PositiveInfinity, 0),
                "LeakyRelu" => new FusedActivation(FusedActivationKind.LeakyRelu, float.NegativeInfinity, float.PositiveInfinity, act.GetFloat("alpha", 0.01f)),
                "HardSwish" => new FusedActivation(FusedActivationKind.HardSwish, float.NegativeInfinity, float.PositiveInfinity, 0),
                "Sigmoid" => new FusedActivation(FusedActivationKind.Sigmoid, float.NegativeInfinity, float.PositiveInfinity, 0),
                "Clip" => ClipBounds(graph, constants, act, opset, out float lo, out float hi)
                    ? new FusedActivation(FusedActivationKind.Clip, lo, hi, 0) : null,
                _ => null,
            };
            if (activation is not { } a) continue;
            var replacement = new Node(node.OpType, node.Inputs, act.Outputs, node.Name, QdqFusion.FusedDomain) { DocString = node.DocString };
            foreach (var attribute in node.Attributes) replacement.Attributes.Add(attribute);
            foreach (var attribute in a.Attributes()) replacement.With(attribute);
            graph.Nodes[index] = replacement;
            removed.Add(act);
            fused++;
        }
        if (removed.Count > 0) graph.Nodes.RemoveAll(removed.Contains);
        return fused;
    }

    /// <summary>Clip's bounds: attributes before opset 11, constant inputs (initializers or Constant nodes) since.</summary>
    internal static bool ClipBounds(Graph graph, Dictionary<string, Tensor> constants, Node clip, long opset, out float min, out float max)
    {
        min = float.NegativeInfinity; max = float.PositiveInfinity;
        if (opset < 11)
        {
            min = clip.GetFloat("min", float.NegativeInfinity);
            max = clip.GetFloat("max", float.PositiveInfinity);
        }
        else
        {
            if (clip.InputOrNull(1) is { } lo)
            {
                if (Scalar(graph, constants, lo) is not { } v) return false;
                min = v;
            }
            if (clip.InputOrNull(2) is { } hi)
            {
                if (Scalar(graph, constants, hi) is not { } v) return false;
                max = v;
            }
        }
        return !float.IsNaN(min) && !float.IsNaN(max) && min <= max;
    }

    private static float? Scalar(Graph graph, Dictionary<string, Tensor> constants, string name)
    {
        if (!graph.Initializers.TryGetValue(name, out var t) && !constants.TryGetValue(name, out t)) return null;
        return t.ElementCount == 1 && t.DataType == DataType.Float ? (float)t.GetDouble(0) : null;
    }
}
