using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Execution;

/// <summary>
/// Rewrites the QDQ pattern DequantizeLinear(x), DequantizeLinear(W) [, bias] → Conv / MatMul / Gemm
/// [→ Relu / Clip] → QuantizeLinear into one int8 node (<see cref="FusedDomain"/>: QLinearConv or
/// QLinearMatMul with an int32 bias input and the activation as real-valued clamp bounds), which the
/// planner compiles onto the QGEMM / depthwise kernels with the weights packed once.
/// Only constant weights and per-tensor activation parameters are fused; anything else stays as it is.
/// </summary>
public static class QdqFusion
{
    /// <summary>Domain of the nodes this pass creates (never read from a file).</summary>
    public const string FusedDomain = "com.edgeagent";

    public static int Run(Graph graph, long opset)
    {
        var producers = new Dictionary<string, Node>(StringComparer.Ordinal);
        var consumers = new Dictionary<string, List<Node>>(StringComparer.Ordinal);
        foreach (var n in graph.Nodes)
        {
            foreach (var o in n.Outputs) if (o.Length > 0) producers[o] = n;
            foreach (var i in n.Inputs)
                if (i.Length > 0)
                {
                    if (!consumers.TryGetValue(i, out var list)) consumers[i] = list = [];
                    list.Add(n);
                }
        }
        var graphOutputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var removed = new HashSet<Node>();
        int fused = 0;
        for (int index = 0; index < graph.Nodes.Count; index++)
        {
            var node = graph.Nodes[index];
            if (node.Domain is not ("" or "ai.onnx") || node.OpType is not ("Conv" or "MatMul" or "Gemm")) continue;
            var match = Match(graph, node, opset, producers, consumers, graphOutputs);
            if (match is null) continue;
            graph.Nodes[index] = match.Value.Fused;
            foreach (var r in match.Value.Removed) removed.Add(r);
            fused++;
        }
        fused += FuseGlobalPools(graph, producers, consumers, graphOutputs, removed);
        if (removed.Count > 0) graph.Nodes.RemoveAll(removed.Contains);
        return fused;
    }

    private static bool IsReshapeLike(Node n) =>
        n.Domain is "" or "ai.onnx" && n.OpType is "Flatten" or "Reshape" or "Squeeze" or "Unsqueeze" or "Identity" && n.Outputs.Count == 1;

    /// <summary>
    /// DequantizeLinear → GlobalAveragePool [→ Flatten / Reshape / Squeeze / Unsqueeze ...] → QuantizeLinear, all per
    /// tensor with the same 8-bit type: one int8 QLinearGlobalAveragePool, the reshapes moving 8-bit values. The
    /// classifier head of a quantized CNN then stays int8 from the last convolution to the final Gemm.
    /// </summary>
    private static int FuseGlobalPools(Graph graph, Dictionary<string, Node> producers, Dictionary<string, List<Node>> consumers,
        HashSet<string> graphOutputs, HashSet<Node> removed)
    {
        int fused = 0;
        for (int index = 0; index < graph.Nodes.Count; index++)
        {
            var pool = graph.Nodes[index];
            if (pool.OpType != "GlobalAveragePool" || pool.Domain is not ("" or "ai.onnx") || pool.Inputs.Count != 1 || pool.Outputs.Count != 1) continue;
            if (!producers.TryGetValue(pool.Inputs[0], out var dq) || !IsDequantize(dq) || removed.Contains(dq)) continue;
            if (SoleConsumer(dq.Outputs[0], consumers, graphOutputs) != pool) continue;
            if (Constant(graph, dq, 1) is not { ElementCount: 1, DataType: DataType.Float } sx || Constant(graph, dq, 2) is not { ElementCount: 1 } zx) continue;
            if (zx.DataType is not (DataType.UInt8 or DataType.Int8) || !float.IsFinite(Scalar(sx)) || Scalar(sx) <= 0) continue;
            var chain = new List<Node>();
            string value = pool.Outputs[0];
            var next = SoleConsumer(value, consumers, graphOutputs);
            while (next is not null && IsReshapeLike(next) && next.Inputs[0] == value && !removed.Contains(next))
            {
                chain.Add(next);
                value = next.Outputs[0];
                next = SoleConsumer(value, consumers, graphOutputs);
            }
            if (next is not { OpType: "QuantizeLinear" } q || q.Domain is not ("" or "ai.onnx") || q.Inputs[0] != value || q.Outputs.Count != 1) continue;
            if (Constant(graph, q, 1) is not { ElementCount: 1, DataType: DataType.Float } sy || Constant(graph, q, 2) is not { ElementCount: 1 } zy) continue;
            if (zy.DataType != zx.DataType || !float.IsFinite(Scalar(sy)) || Scalar(sy) <= 0) continue;

            string pooled = chain.Count == 0 ? q.Outputs[0] : graph.UniqueName(pool.Outputs[0] + "_int8");
            graph.Nodes[index] = new Node("QLinearGlobalAveragePool", [dq.Inputs[0], dq.Inputs[1], dq.Inputs[2], q.Inputs[1], q.Inputs[2]],
                [pooled], pool.Name, FusedDomain);
            if (chain.Count > 0)
            {
                chain[0].Inputs[0] = pooled;
                chain[^1].Outputs[0] = q.Outputs[0];
            }
            removed.Add(dq);
            removed.Add(q);
            fused++;
        }
        return fused;
    }

    private static (Node Fused, Node[] Removed)? Match(Graph graph, Node node, long opset, Dictionary<string, Node> producers,
        Dictionary<string, List<Node>> consumers, HashSet<string> graphOutputs)
    {
        if (node.Inputs.Count < 2) return null;
        // Activation input: DequantizeLinear with per-tensor constant scale and zero point.
        if (!producers.TryGetValue(node.Inputs[0], out var dqx) || !IsDequantize(dqx)) return null;
        if (Constant(graph, dqx, 1) is not { ElementCount: 1 } sx || Constant(graph, dqx, 2) is not { ElementCount: 1 } zx) return null;
        if (zx.DataType is not (DataType.UInt8 or DataType.Int8) || !float.IsFinite(Scalar(sx)) || Scalar(sx) <= 0) return null;

        // Weights: DequantizeLinear of a constant 8-bit tensor, per tensor or per output channel.
        if (!producers.TryGetValue(node.Inputs[1], out var dqw) || !IsDequantize(dqw)) return null;
        if (!graph.Initializers.TryGetValue(dqw.Inputs[0], out var w) || w.DataType is not (DataType.UInt8 or DataType.Int8)) return null;
        if (Constant(graph, dqw, 1) is not { } sw || sw.DataType != DataType.Float) return null;
        var zw = dqw.InputOrNull(2) is null ? null : Constant(graph, dqw, 2);
        if (dqw.InputOrNull(2) is not null && zw is null) return null;
        bool transB = false;
        int outChannels;
        switch (node.OpType)
        {
            case "Conv":
                if (w.Rank is not (3 or 4)) return null;
                outChannels = w.Shape[0];
                if (!PerAxis(dqw, sw, zw, w, 0)) return null;
                break;
            case "Gemm":
                if (node.GetFloat("alpha", 1) != 1 || node.GetFloat("beta", 1) != 1 || node.GetInt("transA", 0) != 0 || w.Rank != 2) return null;
                transB = node.GetInt("transB", 0) != 0;
                outChannels = transB ? w.Shape[0] : w.Shape[1];
                if (!PerAxis(dqw, sw, zw, w, transB ? 0 : 1)) return null;
                break;
            default:
                if (w.Rank != 2) return null;
                outChannels = w.Shape[1];
                if (!PerAxis(dqw, sw, zw, w, 1)) return null;
                break;
        }

        // Output: one consumer, optionally a ReLU or a constant Clip, then QuantizeLinear per tensor.
        string value = node.Outputs[0];
        float actMin = float.NegativeInfinity, actMax = float.PositiveInfinity;
        var removed = new List<Node>();
        var next = SoleConsumer(value, consumers, graphOutputs);
        if (next is { OpType: "Relu" } relu && relu.Domain is "" or "ai.onnx")
        {
            actMin = 0;
            removed.Add(relu);
            value = relu.Outputs[0];
            next = SoleConsumer(value, consumers, graphOutputs);
        }
        else if (next is { OpType: "Clip" } clip && clip.Domain is "" or "ai.onnx")
        {
            if (!ClipBounds(graph, clip, opset, out actMin, out actMax)) return null;
            removed.Add(clip);
            value = clip.Outputs[0];
            next = SoleConsumer(value, consumers, graphOutputs);
        }
        if (next is not { OpType: "QuantizeLinear" } q || q.Domain is not ("" or "ai.onnx") || q.Inputs[0] != value) return null;
        if (Constant(graph, q, 1) is not { ElementCount: 1 } sy || Constant(graph, q, 2) is not { ElementCount: 1 } zy) return null;
        if (zy.DataType is not (DataType.UInt8 or DataType.Int8) || !float.IsFinite(Scalar(sy)) || Scalar(sy) <= 0) return null;
        if (q.Outputs.Count != 1) return null;

        // Bias as int32 in units of sx·sw[n].
        string biasName = "";
        if (node.InputOrNull(2) is { } b)
        {
            var bias = Bias(graph, b, producers, Scalar(sx), sw, outChannels);
            if (bias is null) return null;
            biasName = graph.UniqueName(node.DisplayName + "_bias_int32");
            graph.Initializers[biasName] = Tensor.FromArray<int>(bias, outChannels);
        }

        string zwName = dqw.InputOrNull(2) ?? "";
        var inputs = new List<string> { dqx.Inputs[0], dqx.Inputs[1], dqx.Inputs[2], dqw.Inputs[0], dqw.Inputs[1], zwName, q.Inputs[1], q.Inputs[2] };
        if (biasName.Length > 0) inputs.Add(biasName);
        var fused = new Node(node.OpType == "Conv" ? "QLinearConv" : "QLinearMatMul", inputs, [q.Outputs[0]], node.Name, FusedDomain);
        if (node.OpType == "Conv")
            foreach (var a in node.Attributes) fused.Attributes.Add(a);
        if (transB) fused.With(NodeAttribute.Of("transB", 1L));
        if (!float.IsNegativeInfinity(actMin)) fused.With(NodeAttribute.Of("activation_min", actMin));
        if (!float.IsPositiveInfinity(actMax)) fused.With(NodeAttribute.Of("activation_max", actMax));
        removed.Add(q);
        return (fused, removed.ToArray());
    }

    private static bool IsDequantize(Node n) =>
        n.OpType == "DequantizeLinear" && n.Domain is "" or "ai.onnx" && n.Inputs.Count >= 2 && n.GetInt("block_size", 0) == 0;

    private static Tensor? Constant(Graph graph, Node n, int i) =>
        n.InputOrNull(i) is { } name && graph.Initializers.TryGetValue(name, out var t) ? t : null;

    private static float Scalar(Tensor t) => (float)t.GetDouble(0);

    private static Node? SoleConsumer(string value, Dictionary<string, List<Node>> consumers, HashSet<string> graphOutputs) =>
        !graphOutputs.Contains(value) && consumers.TryGetValue(value, out var list) && list.Count == 1 ? list[0] : null;

    /// <summary>Scales (and zero points) are one value, or one per output channel along <paramref name="channelAxis"/>.</summary>
    private static bool PerAxis(Node dq, Tensor scale, Tensor? zeroPoint, Tensor w, int channelAxis)
    {
        if (zeroPoint is not null && (zeroPoint.DataType != w.DataType || zeroPoint.ElementCount != scale.ElementCount)) return false;
        if (scale.ElementCount == 1) return true;
        int axis = (int)dq.GetInt("axis", 1);
        if (axis < 0) axis += w.Rank;
        return axis == channelAxis && scale.Rank == 1 && scale.ElementCount == w.Shape[channelAxis];
    }

    private static bool ClipBounds(Graph graph, Node clip, long opset, out float min, out float max)
    {
        min = float.NegativeInfinity; max = float.PositiveInfinity;
        if (opset < 11)
        {
            min = clip.GetFloat("min", float.NegativeInfinity);
            max = clip.GetFloat("max", float.PositiveInfinity);
            return min <= max;
        }
        if (clip.InputOrNull(1) is { } lo)
        {
            if (!graph.Initializers.TryGetValue(lo, out var t) || t.ElementCount != 1 || t.DataType != DataType.Float) return false;
            min = Scalar(t);
        }
        if (clip.InputOrNull(2) is { } hi)
        {
            if (!graph.Initializers.TryGetValue(hi, out var t) || t.ElementCount != 1 || t.DataType != DataType.Float) return false;
            max = Scalar(t);
        }
        return !float.IsNaN(min) && !float.IsNaN(max) && min <= max;
    }

    /// <summary>The bias in accumulator units: an int32 DequantizeLinear (rescaled if its scale differs) or float values.</summary>
    private static int[]? Bias(Graph graph, string name, Dictionary<string, Node> producers, float sx, Tensor sw, int channels)
    {
        var accScale = new double[channels];
        for (int n = 0; n < channels; n++) accScale[n] = (double)(sx * (float)sw.GetDouble(sw.ElementCount == 1 ? 0 : n));
        var result = new int[channels];
        if (graph.Initializers.TryGetValue(name, out var f))
        {
            if (f.DataType != DataType.Float || f.ElementCount != channels) return null;
            for (int n = 0; n < channels; n++)
            {
                double q = Math.Round(f.GetDouble(n) / accScale[n], MidpointRounding.ToEven);
                if (!(Math.Abs(q) <= int.MaxValue)) return null;
                result[n] = (int)q;
            }
            return result;
        }
        if (!producers.TryGetValue(name, out var dq) || !IsDequantize(dq)) return null;
        if (!graph.Initializers.TryGetValue(dq.Inputs[0], out var qb) || qb.DataType != DataType.Int32 || qb.ElementCount != channels) return null;
        if (Constant(graph, dq, 1) is not { } bs || bs.ElementCount is var c && c != 1 && c != channels) return null;
        if (dq.InputOrNull(2) is { } zpName && (!graph.Initializers.TryGetValue(zpName, out var zp) || zp.ToInt64Array().Any(z => z != 0))) return null;
        for (int n = 0; n < channels; n++)
        {
            double scale = bs.GetDouble(bs.ElementCount == 1 ? 0 : n);
            long v = qb.GetInt64(n);
            if (Math.Abs(scale - accScale[n]) <= 1e-6 * accScale[n]) { result[n] = (int)v; continue; }
            double q = Math.Round(v * scale / accScale[n], MidpointRounding.ToEven);
            if (!(Math.Abs(q) <= int.MaxValue)) return null;
            result[n] = (int)q;
        }
        return result;
    }
}
