using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Compression.Factorization;

/// <summary>How many singular values each factorised layer keeps.</summary>
public sealed record LowRankOptions
{
    /// <summary>A fixed rank; null to choose by <see cref="Energy"/>.</summary>
    public int? Rank { get; init; }
    /// <summary>Keep the fewest singular values whose squares sum to this fraction of the total.</summary>
    public double Energy { get; init; } = 0.95;
    public IReadOnlySet<string> Exclude { get; init; } = new HashSet<string>();
}

/// <summary>One layer's factorisation.</summary>
public sealed record LowRankLayer(string Node, string OpType, int Rows, int Cols, int Rank, double EnergyKept, long ParametersBefore, long ParametersAfter);

/// <summary>
/// Low-rank factorisation of Gemm, MatMul and 1×1 Conv weights: W (K×N, y = x·W) ≈ A·B with
/// A = U_r·√Σ_r (K×r) and B = √Σ_r·V_rᵀ (r×N), so one layer becomes two thinner ones. A layer is only
/// replaced when the two factors hold fewer parameters than W.
/// </summary>
public static class LowRankFactorizer
{
    public static IReadOnlyList<LowRankLayer> Factorize(OnnxModel model, LowRankOptions options)
    {
        var g = model.Graph;
        var done = new List<LowRankLayer>();
        foreach (var node in g.Nodes.ToList())
        {
            if (options.Exclude.Contains(node.Name)) continue;
            if (node.InputOrNull(1) is not { } wName || !g.Initializers.TryGetValue(wName, out var w) || w.DataType != DataType.Float) continue;
            if (g.Nodes.Count(n => n.Inputs.Contains(wName)) != 1) continue;
            float[] kn; // weight as K×N with y = x·W
            int k, n;
            switch (node.OpType)
            {
                case "Gemm" when w.Rank == 2 && node.GetInt("transA", 0) == 0 && node.GetFloat("alpha", 1f) == 1f:
                    bool transB = node.GetInt("transB", 0) != 0;
                    k = transB ? w.Shape[1] : w.Shape[0];
                    n = transB ? w.Shape[0] : w.Shape[1];
                    kn = transB ? Transpose(w.Span<float>(), n, k) : w.ToArray<float>();
                    break;
                case "MatMul" when w.Rank == 2:
                    (k, n) = (w.Shape[0], w.Shape[1]);
                    kn = w.ToArray<float>();
                    break;
                case "Conv" when w.Rank == 4 && w.Shape[2] == 1 && w.Shape[3] == 1 && node.GetInt("group", 1) == 1 && IsPlain1x1(node):
                    (k, n) = (w.Shape[1], w.Shape[0]);
                    kn = Transpose(w.Span<float>(), n, k);
                    break;
                default: continue;
            }
            var (u, s, v) = JacobiSvd.Decompose(kn, k, n);
            int full = s.Length;
            double total = s.Sum(x => x * x);
            int r;
            if (options.Rank is { } fixedRank) r = Math.Min(fixedRank, full);
            else
            {
                double acc = 0;
                r = full;
                for (int i = 0; i < full; i++) { acc += s[i] * s[i]; if (acc >= options.Energy * total) { r = i + 1; break; } }
            }
            long before = (long)k * n, after = (long)r * (k + n);
            if (r <= 0 || after >= before) continue;
            double kept = total == 0 ? 1 : s.Take(r).Sum(x => x * x) / total;

            var a = new float[k * r];
            var b = new float[r * n];
            for (int i = 0; i < k; i++) for (int j = 0; j < r; j++) a[i * r + j] = (float)(u[i * full + j] * Math.Sqrt(s[j]));
            for (int j = 0; j < r; j++) for (int c = 0; c < n; c++) b[j * n + c] = (float)(Math.Sqrt(s[j]) * v[c * full + j]);

            string aName = g.UniqueName(wName + "_lowrank_a"), bName = g.UniqueName(wName + "_lowrank_b");
            string mid = g.UniqueName(node.Outputs[0] + "_lowrank");
            var first = new Node(node.OpType, [node.Inputs[0], aName], [mid], g.UniqueName(node.Name + "_lowrank_a"));
            if (node.OpType == "Conv")
            {
                g.Initializers[aName] = Tensor.FromArray<float>(Transpose(a, k, r), r, k, 1, 1);
                g.Initializers[bName] = Tensor.FromArray<float>(Transpose(b, r, n), n, r, 1, 1);
                foreach (var attr in node.Attributes) first.Attributes.Add(attr);
                node.Attributes.RemoveAll(x => x.Name is "strides" or "pads" or "auto_pad" or "dilations");
            }
            else
            {
                g.Initializers[aName] = Tensor.FromArray<float>(a, k, r);
                g.Initializers[bName] = Tensor.FromArray<float>(b, r, n);
                if (node.OpType == "Gemm") node.With(NodeAttribute.Of("transB", 0L));
            }
            int index = g.Nodes.IndexOf(node);
            g.Nodes.Insert(index, first);
            node.Inputs[0] = mid;
            node.Inputs[1] = bName;
            g.Initializers.Remove(wName);
            done.Add(new LowRankLayer(node.DisplayName, node.OpType, k, n, r, kept, before, after));
        }
        return done;
    }

    // A 1×1 convolution whose spatial attributes the first factor can carry alone.
    private static bool IsPlain1x1(Node node) => node.GetString("auto_pad", "NOTSET") is "NOTSET" or "VALID";

    private static float[] Transpose(ReadOnlySpan<float> m, int rows, int cols)
    {
        var t = new float[m.Length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = m[r * cols + c];
        return t;
    }
}
