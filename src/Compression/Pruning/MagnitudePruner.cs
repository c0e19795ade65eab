using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Compression.Pruning;

/// <summary>What pruning did to one layer.</summary>
public sealed record PrunedLayer(string Node, string OpType, long ParametersBefore, long ParametersAfter, int ChannelsBefore, int ChannelsAfter);

/// <summary>
/// Magnitude pruning of Conv, Gemm and MatMul weights.
/// Unstructured: the smallest |w| of each layer become 0 (the file compresses; kernels see the same shapes).
/// Structured: whole output channels of least magnitude are removed (the channel's weight norm times its
/// gains along the path to the next weight layer, see <c>ChannelImportance</c>), with their biases, the
/// BatchNormalization entries that follow, and the matching input channels of the next weight layer
/// (through Relu-like ops, pooling, Flatten and depthwise convolutions, whose channels go with them:
/// in a MobileNet block the pointwise layer's channels are the next depthwise layer's), so the model
/// really gets smaller and faster.
/// Layers feeding a graph output are kept whole (their channels are the model's outputs).
/// </summary>
public static class MagnitudePruner
{
    private static readonly HashSet<string> s_channelwise = new(StringComparer.Ordinal)
    {
        "Relu", "Clip", "LeakyRelu", "Sigmoid", "HardSwish", "HardSigmoid", "Tanh", "MaxPool", "AveragePool", "GlobalAveragePool", "Identity",
    };

    public static IReadOnlyList<PrunedLayer> PruneUnstructured(OnnxModel model, double sparsity, IReadOnlySet<string> exclude)
    {
        CheckSparsity(sparsity);
        var g = model.Graph;
        var result = new List<PrunedLayer>();
        foreach (var node in g.Nodes.Where(n => n.OpType is "Conv" or "Gemm" or "MatMul" && !exclude.Contains(n.Name)))
        {
            if (node.InputOrNull(1) is not { } wName || !g.Initializers.TryGetValue(wName, out var w) || w.DataType != DataType.Float) continue;
            var values = w.Span<float>();
            int zeroCount = (int)Math.Floor(values.Length * sparsity);
            if (zeroCount == 0) continue;
            var order = Enumerable.Range(0, values.Length).ToArray();
            var magnitudes = values.ToArray().Select(MathF.Abs).ToArray();
            Array.Sort(magnitudes, order);
            for (int i = 0; i < zeroCount; i++) values[order[i]] = 0f;
            result.Add(new PrunedLayer(node.DisplayName, node.OpType, values.Length, values.Length - zeroCount, 0, 0));
        }
        return result;
    }

    public static IReadOnlyList<PrunedLayer> PruneStructured(OnnxModel model, double sparsity, IReadOnlySet<string> exclude)
    {
        CheckSparsity(sparsity);
        var g = model.Graph;
        var result = new List<PrunedLayer>();
        var outputs = new HashSet<string>(g.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        foreach (var node in g.Nodes.ToList())
        {
            if (node.OpType is not ("Conv" or "Gemm") || exclude.Contains(node.Name)) continue;
            if (node.InputOrNull(1) is not { } wName || !g.Initializers.TryGetValue(wName, out var w) || w.DataType != DataType.Float) continue;
            if (g.Nodes.Count(n => n.Inputs.Contains(wName)) != 1) continue;
            if (node.OpType == "Conv" && node.GetInt("group", 1) != 1) continue;
            if (node.OpType == "Gemm" && (w.Rank != 2 || node.GetInt("transA", 0) != 0)) continue;
            bool transB = node.OpType == "Gemm" && node.GetInt("transB", 0) != 0;
            int channels = node.OpType == "Conv" ? w.Shape[0] : transB ? w.Shape[0] : w.Shape[1];
            int keep = Math.Max(1, channels - (int)Math.Floor(channels * sparsity));
            if (keep == channels) continue;
            var path = FollowChannels(g, node.Outputs[0], outputs);
            if (path is null || path.Depthwise.Any(dw => dw.GetInt("group", 1) != channels)) continue;

            var norms = ChannelImportance(g, node, w, channels, transB, path);
            var kept = Enumerable.Range(0, channels).OrderByDescending(c => norms[c]).Take(keep).Order().ToArray();
            long before = w.ElementCount;

            g.Initializers[wName] = node.OpType == "Conv" ? SelectAxis(w, 0, kept) : SelectAxis(w, transB ? 0 : 1, kept);
            if (node.InputOrNull(2) is { } bName && g.Initializers.TryGetValue(bName, out var b) && b.Rank == 1 && b.Shape[0] == channels)
                g.Initializers[bName] = SelectAxis(b, 0, kept);
            foreach (var dw in path.Depthwise)
            {
                g.Initializers[dw.Inputs[1]] = SelectAxis(g.Initializers[dw.Inputs[1]], 0, kept);
                if (dw.InputOrNull(2) is { } dwBias && g.Initializers.TryGetValue(dwBias, out var db))
                    g.Initializers[dwBias] = SelectAxis(db, 0, kept);
                dw.With(NodeAttribute.Of("group", (long)keep));
            }
            foreach (var bn in path.BatchNorms)
                for (int k = 1; k <= 4; k++) g.Initializers[bn.Inputs[k]] = SelectAxis(g.Initializers[bn.Inputs[k]], 0, kept);
            foreach (var next in path.Consumers)
            {
                var nw = g.Initializers[next.Inputs[1]];
                // Inputs per channel: 1 directly, H×W after a Flatten of a [C,H,W] map (channel-major).
                int inputs = next.OpType == "Gemm" ? (next.GetInt("transB", 0) != 0 ? nw.Shape[1] : nw.Shape[0]) : nw.Shape[1];
                int block = path.FlattenBlock == 0 ? inputs / channels : path.FlattenBlock;
                if (block * channels != inputs)
                    throw new InvalidOperationException($"node '{next.DisplayName}' reads {inputs} inputs, not a multiple of the {channels} channels of '{node.DisplayName}'");
                var keptInputs = kept.SelectMany(c => Enumerable.Range(c * block, block)).ToArray();
                Tensor pruned = next.OpType == "Conv" ? SelectAxis(nw, 1, kept)
                    : next.GetInt("transB", 0) != 0 ? SelectAxis(nw, 1, keptInputs) : SelectAxis(nw, 0, keptInputs);
                g.Initializers[next.Inputs[1]] = pruned;
            }
            result.Add(new PrunedLayer(node.DisplayName, node.OpType, before, g.Initializers[wName].ElementCount, channels, keep));
        }
        // Declared shapes of intermediate values are stale now.
        g.ValueInfos.Clear();
        return result;
    }

    /// <summary>
    /// How much of a channel's signal reaches the next weight layer, without data: the L2 norm of the
    /// channel's weights, times the gain |γ|/√(var+ε) of every BatchNormalization on its path, times the
    /// norm of its depthwise filters, times the norm of the weights that read it. A BN renormalises
    /// its input, so the producer's weight norm alone says little (the scaled-down channel comes back
    /// at full size); the reading side tells a channel the next layer ignores from one it relies on.
    /// </summary>
    private static double[] ChannelImportance(Graph g, Node node, Tensor w, int channels, bool transB, ChannelPath path)
    {
        var norms = new double[channels];
        var span = w.Span<float>();
        for (int i = 0; i < span.Length; i++)
        {
            int c = node.OpType == "Conv" ? i / (span.Length / channels) : transB ? i / w.Shape[1] : i % w.Shape[1];
            norms[c] += span[i] * (double)span[i];
        }
        for (int c = 0; c < channels; c++) norms[c] = Math.Sqrt(norms[c]);
        foreach (var bn in path.BatchNorms)
        {
            var gamma = g.Initializers[bn.Inputs[1]].Span<float>();
            var variance = g.Initializers[bn.Inputs[4]].Span<float>();
            double epsilon = bn.GetFloat("epsilon", 1e-5f);
            for (int c = 0; c < channels; c++) norms[c] *= Math.Abs(gamma[c]) / Math.Sqrt(variance[c] + epsilon);
        }
        foreach (var dw in path.Depthwise)
            MultiplyByBlockNorms(norms, g.Initializers[dw.Inputs[1]].Span<float>(), channels);
        if (path.Consumers.Count > 0)
        {
            var reading = new double[channels];
            foreach (var next in path.Consumers)
            {
                var nw = g.Initializers[next.Inputs[1]];
                var values = nw.Span<float>();
                // Conv [M, C, k…] and Gemm with transB [N, K] read channel c in column block c; Gemm [K, N] in row block c.
                bool rows = next.OpType == "Gemm" && next.GetInt("transB", 0) == 0;
                int inputs = next.OpType == "Gemm" ? (rows ? nw.Shape[0] : nw.Shape[1]) : nw.Shape[1];
                int inner = next.OpType == "Conv" ? values.Length / (nw.Shape[0] * inputs) : 1;
                int block = Math.Max(1, inputs / channels);
                if (block * channels != inputs) return norms; // the rewiring step reports the mismatch
                for (int i = 0; i < values.Length; i++)
                {
                    int input = rows ? i / nw.Shape[1] : i / inner % inputs;
                    reading[input / block] += values[i] * (double)values[i];
                }
            }
            for (int c = 0; c < channels; c++) norms[c] *= Math.Sqrt(reading[c]);
        }
        return norms;
    }

    private static void MultiplyByBlockNorms(double[] norms, ReadOnlySpan<float> weights, int channels)
    {
        int per = weights.Length / channels;
        for (int c = 0; c < channels; c++)
        {
            double sum = 0;
            foreach (var v in weights.Slice(c * per, per)) sum += v * (double)v;
            norms[c] *= Math.Sqrt(sum);
        }
    }

    private sealed record ChannelPath(List<Node> Consumers, List<Node> BatchNorms, List<Node> Depthwise, int FlattenBlock);

    // One filter per channel (group = C_in = C_out), its weights and bias used by no other node.
    private static bool IsPrunableDepthwise(Graph g, Node conv)
    {
        long group = conv.GetInt("group", 1);
        if (group <= 1 || conv.InputOrNull(1) is not { } wName || !g.Initializers.TryGetValue(wName, out var w)) return false;
        if (w.DataType != DataType.Float || w.Rank < 3 || w.Shape[0] != group || w.Shape[1] != 1) return false;
        if (g.Nodes.Count(n => n.Inputs.Contains(wName)) != 1) return false;
        if (conv.InputOrNull(2) is { } bName && (!g.Initializers.ContainsKey(bName) || g.Nodes.Count(n => n.Inputs.Contains(bName)) != 1)) return false;
        return true;
    }

    // Walks from a layer's output through channel-wise ops to the weight layers that read those channels.
    private static ChannelPath? FollowChannels(Graph g, string value, HashSet<string> graphOutputs)
    {
        var consumers = new List<Node>();
        var bns = new List<Node>();
        var depthwise = new List<Node>();
        int block = 1;
        var frontier = new Queue<string>([value]);
        while (frontier.Count > 0)
        {
            var v = frontier.Dequeue();
            if (graphOutputs.Contains(v)) return null;
            var readers = g.Consumers(v).ToList();
            if (readers.Count == 0) return null;
            foreach (var r in readers)
            {
                if (r.Inputs.Count(i => i == v) != 1 || r.Inputs[0] != v) return null;
                if (s_channelwise.Contains(r.OpType) && (r.OpType != "Clip" || r.Inputs.Skip(1).All(i => i.Length == 0 || g.Initializers.ContainsKey(i))))
                    frontier.Enqueue(r.Outputs[0]);
                else if (r.OpType == "BatchNormalization" && r.Inputs.Skip(1).Take(4).All(g.Initializers.ContainsKey))
                { bns.Add(r); frontier.Enqueue(r.Outputs[0]); }
                else if (r.OpType == "Flatten" && r.GetInt("axis", 1) == 1)
                {
                    // Everything after must be Gemm reading channel-major blocks: block size found from the Gemm.
                    var gemms = g.Consumers(r.Outputs[0]).ToList();
                    if (gemms.Count == 0 || gemms.Any(x => x.OpType != "Gemm" || x.Inputs[0] != r.Outputs[0])) return null;
                    block = -1;
                    consumers.AddRange(gemms);
                }
                else if (r.OpType == "Conv" && IsPrunableDepthwise(g, r))
                { depthwise.Add(r); frontier.Enqueue(r.Outputs[0]); }
                else if (r.OpType is "Conv" or "Gemm" && r.GetInt("group", 1) == 1 && g.Initializers.ContainsKey(r.InputOrNull(1) ?? "") && r.GetInt("transA", 0) == 0)
                    consumers.Add(r);
                else return null;
            }
        }
        if (consumers.Count == 0) return null;
        if (block == -1)
        {
            // Flatten after a spatial map: Gemm inputs per channel = K / channels, taken from the producer's channel count later.
            return new ChannelPath(consumers, bns, depthwise, 0);
        }
        return new ChannelPath(consumers, bns, depthwise, block);
    }

    private static Tensor SelectAxis(Tensor t, int axis, int[] indices)
    {
        var shape = t.Shape.ToArray();
        int outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= shape[i];
        for (int i = axis + 1; i < shape.Length; i++) inner *= shape[i];
        var src = t.Span<float>();
        var dst = new float[outer * indices.Length * inner];
        for (int o = 0; o < outer; o++)
            for (int j = 0; j < indices.Length; j++)
                src.Slice((o * shape[axis] + indices[j]) * inner, inner).CopyTo(dst.AsSpan((o * indices.Length + j) * inner, inner));
        shape[axis] = indices.Length;
        return Tensor.FromArray<float>(dst, shape);
    }

    private static void CheckSparsity(double sparsity)
    {
        if (!(sparsity > 0 && sparsity < 1)) throw new ArgumentOutOfRangeException(nameof(sparsity), sparsity, "sparsity must be between 0 and 1 (exclusive)");
    }
}
