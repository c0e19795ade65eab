using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Compression.Quantization;

/// <summary>
/// Folds an inference-mode BatchNormalization into the Conv that feeds it:
/// W'[m] = W[m]·s[m], b'[m] = (b[m] − mean[m])·s[m] + β[m] with s = γ / √(var + ε).
/// Quantizing first and normalising afterwards would give the int8 weights a scale the following
/// float multiply then distorts, keep five float vectors per layer in the file, and put the Q/DQ
/// pair before the BN instead of before the Relu, so quantization folds first (as ONNX Runtime's
/// pre-processing does).
/// </summary>
public static class BatchNormFolding
{
    /// <summary>Folds every foldable Conv→BatchNormalization pair in place; returns the BN node names folded.</summary>
    public static IReadOnlyList<string> Fold(Graph graph, IReadOnlySet<string>? exclude = null)
    {
        var folded = new List<string>();
        var graphOutputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        foreach (var bn in graph.Nodes.Where(n => n.OpType == "BatchNormalization" && n.Domain is "" or "ai.onnx").ToList())
        {
            if (exclude is not null && exclude.Contains(bn.Name)) continue;
            if (graph.Producer(bn.Inputs[0]) is not { OpType: "Conv" } conv || conv.Domain is not ("" or "ai.onnx")) continue;
            if (exclude is not null && exclude.Contains(conv.Name)) continue;
            if (!TryFold(graph, conv, bn, graphOutputs)) continue;
            folded.Add(bn.DisplayName);
        }
        return folded;
    }

    private static bool TryFold(Graph graph, Node conv, Node bn, HashSet<string> graphOutputs)
    {
        string convOut = conv.Outputs[0];
        // The un-normalised value must have no other reader, and a training-mode BN (mean/var outputs) is not a constant affine map.
        if (graphOutputs.Contains(convOut) || graph.Consumers(convOut).Count() != 1) return false;
        if (bn.Outputs.Count(o => o.Length > 0) != 1 || bn.GetInt("training_mode", 0) != 0 || bn.Inputs.Count < 5) return false;
        if (conv.InputOrNull(1) is not { } wName || !graph.Initializers.TryGetValue(wName, out var w) || w.DataType != DataType.Float || w.Rank < 3) return false;
        int channels = (int)w.Shape[0];
        var p = new float[4][];
        for (int k = 0; k < 4; k++)
        {
            if (!graph.Initializers.TryGetValue(bn.Inputs[k + 1], out var t) || t.DataType != DataType.Float || t.ElementCount != channels) return false;
            p[k] = t.Span<float>().ToArray();
        }
        float[] bias;
        if (conv.InputOrNull(2) is { } bName)
        {
            if (!graph.Initializers.TryGetValue(bName, out var b) || b.DataType != DataType.Float || b.ElementCount != channels) return false;
            bias = b.Span<float>().ToArray();
        }
        else bias = new float[channels];

        float epsilon = bn.GetFloat("epsilon", 1e-5f);
        var (gamma, beta, mean, variance) = (p[0], p[1], p[2], p[3]);
        var weights = w.Span<float>().ToArray();
        int perChannel = weights.Length / channels;
        for (int m = 0; m < channels; m++)
        {
            double s = gamma[m] / Math.Sqrt(variance[m] + (double)epsilon);
            foreach (ref var v in weights.AsSpan(m * perChannel, perChannel)) v = (float)(v * s);
            bias[m] = (float)((bias[m] - mean[m]) * s + beta[m]);
        }

        // New names: the originals may be shared with other nodes; unused ones are dropped by the quantizer.
        string newW = graph.UniqueName(wName + "_bn_folded");
        string newB = graph.UniqueName((conv.InputOrNull(2) ?? conv.DisplayName + "_bias") + "_bn_folded");
        graph.Initializers[newW] = Tensor.FromArray<float>(weights, w.Shape.ToArray());
        graph.Initializers[newB] = Tensor.FromArray<float>(bias, channels);
        conv.Inputs[1] = newW;
        while (conv.Inputs.Count < 3) conv.Inputs.Add("");
        conv.Inputs[2] = newB;
        conv.Outputs[0] = bn.Outputs[0];
        graph.Nodes.Remove(bn);
        return true;
    }
}
