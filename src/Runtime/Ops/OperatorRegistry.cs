using System.Collections.Frozen;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>The operators this runtime implements (default ONNX domain, opsets up to <see cref="MaxOpset"/>).</summary>
public static class OperatorRegistry
{
    /// <summary>Newest default-domain opset whose semantics we follow.</summary>
    public const long MaxOpset = 21;

    private static readonly FrozenDictionary<string, OpCompiler> s_ops = Build();
    private static readonly FrozenDictionary<string, OpCompiler> s_fused = BuildFused();

    private static FrozenDictionary<string, OpCompiler> BuildFused()
    {
        var ops = new Dictionary<string, OpCompiler>(StringComparer.Ordinal);
        QuantizedOps.RegisterFused(ops);
        ConvOps.RegisterFused(ops);
        MatMulOps.RegisterFused(ops);
        Int8GlobalPoolKernel.Register(ops);
        return ops.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static FrozenDictionary<string, OpCompiler> Build()
    {
        var ops = new Dictionary<string, OpCompiler>(StringComparer.Ordinal);
        UnaryOps.Register(ops);
        ElementwiseOps.Register(ops);
        CastOps.Register(ops);
        ShapeOps.Register(ops);
        MatMulOps.Register(ops);
        ConvOps.Register(ops);
        PoolOps.Register(ops);
        NormalizationOps.Register(ops);
        ReduceOps.Register(ops);
        ResizeOp.Register(ops);
        QuantizedOps.Register(ops);
        return ops.ToFrozenDictionary(StringComparer.Ordinal);
    }

    public static IEnumerable<string> SupportedOps => s_ops.Keys.Order(StringComparer.Ordinal);

    public static bool IsSupported(string domain, string opType) =>
        domain is "" or "ai.onnx" && s_ops.ContainsKey(opType);

    public static bool IsSupported(Node node) => IsSupported(node.Domain, node.OpType);

    /// <summary>The compiler of a node: ONNX operators, and the fused nodes the graph optimizer creates.</summary>
    public static OpCompiler? Find(Node node) =>
        node.Domain is "" or "ai.onnx" && s_ops.TryGetValue(node.OpType, out var c) ? c
        : node.Domain == Execution.QdqFusion.FusedDomain && s_fused.TryGetValue(node.OpType, out var f) ? f : null;

    /// <summary>Nodes of <paramref name="graph"/> we cannot run, as "name (Domain:OpType)".</summary>
    public static IReadOnlyList<string> Unsupported(Graph graph) =>
        graph.Nodes.Where(n => Find(n) is null).Select(n => $"{n.DisplayName} ({(n.Domain.Length > 0 ? n.Domain + ":" : "")}{n.OpType})").ToList();
}
