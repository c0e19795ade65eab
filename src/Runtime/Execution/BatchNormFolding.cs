using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Execution;

/// <summary>
/// Folds an inference BatchNormalization that follows a float Conv or Gemm with constant weights into those
/// weights and the bias: <c>s = scale / sqrt(var + eps)</c>, <c>W'[m] = W[m]·s[m]</c>,
/// <c>b'[m] = (b[m] − mean[m])·s[m] + beta[m]</c>. The folded tensors are new initializers, so weights shared
/// with other nodes stay as they were. Computed in double, rounded once. The one implementation: the session's
/// optimiser runs it, and the quantizer runs it before placing QDQ pairs (int8 weights must already carry the
/// normalisation, and the QuantizeLinear belongs after the Relu, not before the BatchNormalization).
/// </summary>
public static class BatchNormFolding
{
    public static int Run(Graph graph) => Fold(graph).Count;

    /// <summary>
    /// Folds every foldable Conv/Gemm → BatchNormalization pair in place and returns the names of the
    /// BatchNormalization nodes folded. A pair where either node's name is in <paramref name="exclude"/> stays.
    /// </summary>
    public static IReadOnlyList<string> Fold(Graph graph, IReadOnlySet<string>? exclude = null)
    {
        var uses = new GraphUses(graph);
        var removed = new HashSet<Node>();
        var folded = new List<string>();
        foreach (var node in graph.Nodes)
        {
            if (node.Domain is not ("" or "ai.onnx") || node.OpType is not ("Conv" or "Gemm") || node.Outputs.Count != 1) continue;
            if (exclude is not null && exclude.Contains(node.Name)) continue;
            if (uses.SoleConsumer(node.Outputs[0]) is not { OpType: "BatchNormalization", Domain: "" or "ai.onnx" } bn || removed.Contains(bn)) continue;
            if (exclude is not null && exclude.Contains(bn.Name)) continue;
            if (bn.Inputs.Count != 5 || bn.Inputs[0] != node.Outputs[0] || bn.GetInt("training_mode", 0) != 0) continue;
            if (bn.Outputs.Skip(1).Any(o => o.Length > 0)) continue;
            if (!TryFold(graph, node, bn)) continue;
            node.Outputs[0] = bn.Outputs[0];
            removed.Add(bn);
            folded.Add(bn.DisplayName);
        }
        if (removed.Count > 0) graph.Nodes.RemoveAll(removed.Contains);
        return folded;
    }

    private static bool TryFold(Graph graph, Node node, Node bn)
    {
        if (node.InputOrNull(1) is not { } wName || !graph.Initializers.TryGetValue(wName, out var w) || w.DataType != DataType.Float) return false;
        bool conv = node.OpType == "Conv";
        bool transB = node.GetInt("transB", 0) != 0;
        int channels;
        if (conv)
        {
            if (w.Rank < 3) return false;
            channels = w.Shape[0];
        }
        else
        {
            if (w.Rank != 2 || node.GetInt("transA", 0) != 0) return false;
            channels = transB ? w.Shape[0] : w.Shape[1];
        }
        var p = new double[4][];
        for (int k = 0; k < 4; k++)
        {
            if (!graph.Initializers.TryGetValue(bn.Inputs[k + 1], out var t) || t.DataType != DataType.Float || t.Rank != 1 || t.ElementCount != channels) return false;
            p[k] = new double[channels];
            for (int c = 0; c < channels; c++) p[k][c] = t.GetDouble(c);
        }
        double eps = bn.GetFloat("epsilon", 1e-5f);
        double alpha = conv ? 1 : node.GetFloat("alpha", 1), beta = conv ? 1 : node.GetFloat("beta", 1);
        var bias = new double[channels];
        if (node.InputOrNull(2) is { } bName)
        {
            if (!graph.Initializers.TryGetValue(bName, out var b) || b.DataType != DataType.Float) return false;
            if (b.ElementCount == channels && (b.Rank == 1 || b.Rank == 2 && b.Shape[0] == 1))
                for (int c = 0; c < channels; c++) bias[c] = beta * b.GetDouble(c);
            else if (b.ElementCount == 1)
                Array.Fill(bias, beta * b.GetDouble(0));
            else return false; // a bias varying by row is not a per-channel constant
        }
        var s = new double[channels];
        for (int c = 0; c < channels; c++)
        {
            s[c] = p[0][c] / Math.Sqrt(p[3][c] + eps);
            if (!double.IsFinite(s[c])) return false;
        }

        var wSrc = w.Span<float>();
        var folded = new float[w.ElementCount];
        if (conv || transB)
        {
            int per = w.ElementCount / channels;
            for (int c = 0; c < channels; c++)
                for (int i = 0; i < per; i++) folded[c * per + i] = (float)(wSrc[c * per + i] * alpha * s[c]);
        }
        else
        {
            int rows = w.Shape[0];
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < channels; c++) folded[r * channels + c] = (float)(wSrc[r * channels + c] * alpha * s[c]);
        }
        var newBias = new float[channels];
        for (int c = 0; c < channels; c++) newBias[c] = (float)((bias[c] - p[2][c]) * s[c] + p[1][c]);

        string stem = node.DisplayName;
        string wFolded = graph.UniqueName(stem + "_W_bn");
        graph.Initializers[wFolded] = Tensor.FromArray<float>(folded, w.Shape);
        string bFolded = graph.UniqueName(stem + "_B_bn");
        graph.Initializers[bFolded] = Tensor.FromArray<float>(newBias, channels);
        node.Inputs[1] = wFolded;
        if (node.Inputs.Count < 3) node.Inputs.Add(bFolded);
        else node.Inputs[2] = bFolded;
        if (!conv)
        {
            node.With(NodeAttribute.Of("alpha", 1f));
            node.With(NodeAttribute.Of("beta", 1f));
        }
        return true;
    }
}
