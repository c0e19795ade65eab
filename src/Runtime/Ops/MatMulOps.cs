using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>MatMul (NumPy semantics: 1-d promotion, batch broadcasting) and Gemm.</summary>
internal static class MatMulOps
{
    public static void Register(Dictionary<string, OpCompiler> ops)
    {
        ops["MatMul"] = c => MatMul(c, FusedActivation.None);
        ops["Gemm"] = c => Gemm(c, FusedActivation.None);
    }

    /// <summary>MatMul and Gemm with an activation folded in by <see cref="Execution.ActivationFusion"/>.</summary>
    public static void RegisterFused(Dictionary<string, OpCompiler> ops)
    {
        ops["MatMul"] = c => MatMul(c, FusedActivation.Of(c));
        ops["Gemm"] = c => Gemm(c, FusedActivation.Of(c));
    }

    /// <summary>Shapes of a batched matrix product and the per-batch offsets of A and B.</summary>
    internal sealed class BatchedShape
    {
        public int M, N, K, Batches;
        public int[] Output = [];
        public int[] OffsetA = [], OffsetB = [];

        public static BatchedShape Of(CompileContext c, int[] a, int[] b)
        {
            if (a.Length == 0 || b.Length == 0) throw c.Error("inputs", "MatMul does not take scalars");
            var a2 = a.Length == 1 ? new[] { 1, a[0] } : a;
            var b2 = b.Length == 1 ? new[] { b[0], 1 } : b;
            int m = a2[^2], k = a2[^1], kb = b2[^2], n = b2[^1];
            if (k != kb) throw c.Error("inputs", $"inner dimensions differ: A {Tensor.FormatShape(a)} and B {Tensor.FormatShape(b)}");
            var batchA = a2[..^2]; var batchB = b2[..^2];
            int[] batch;
            try { batch = Broadcast.OutputShapeOf(batchA, batchB); }
            catch (ArgumentException e) { throw c.Error("inputs", e.Message); }
            var output = new List<int>(batch);
            if (a.Length > 1) output.Add(m);
            if (b.Length > 1) output.Add(n);
            var s = new BatchedShape { M = m, N = n, K = k, Output = [.. output] };
            int batches = 1;
            foreach (var d in batch) batches *= d;
            s.Batches = batches;
            s.OffsetA = new int[batches]; s.OffsetB = new int[batches];
            if (batches > 0)
            {
                var plan = new Broadcast(batch, [batchA, batchB]);
                // Offsets per batch index, in matrices; expanded from the broadcast walk.
                int idx = 0;
                for (int r = 0; r < plan.Rows; r++)
                {
                    int oa = plan.Offset(0, r), ob = plan.Offset(1, r);
                    for (int j = 0; j < plan.Inner; j++, idx++)
                    {
                        s.OffsetA[idx] = (oa + j * plan.InnerStride[0]) * m * k;
                        s.OffsetB[idx] = (ob + j * plan.InnerStride[1]) * k * n;
                    }
                }
            }
            return s;
        }
    }

    private static OpKernel MatMul(CompileContext c, FusedActivation activation)
    {
        c.RequireType(0, DataType.Float);
        c.RequireType(1, DataType.Float);
        var s = BatchedShape.Of(c, c.InputShape(0), c.InputShape(1));
        c.SetOutput(0, DataType.Float, s.Output);
        int m = s.M, n = s.N, k = s.K;
        if (FloatGemmKernel.TryMatMul(c, activation) is { } fast) return fast;
        return new DelegateKernel((i, o) =>
        {
            var a = i[0]!.Span<float>(); var b = i[1]!.Span<float>(); var y = o[0].Span<float>();
            for (int t = 0; t < s.Batches; t++)
                FloatGemm.Multiply(m, n, k, a.Slice(s.OffsetA[t]), k, b.Slice(s.OffsetB[t]), n, y.Slice(t * m * n), n, false);
            if (activation.Kind != FusedActivationKind.None) activation.ApplyAll(y);
        }, "reference.gemm" + activation.PathSuffix);
    }

    private static OpKernel Gemm(CompileContext c, FusedActivation activation)
    {
        c.RequireType(0, DataType.Float);
        c.RequireType(1, DataType.Float);
        var a = c.InputShape(0); var b = c.InputShape(1);
        if (a.Length != 2 || b.Length != 2) throw c.Error("inputs", $"A {Tensor.FormatShape(a)} and B {Tensor.FormatShape(b)} must be matrices");
        bool ta = c.Int("transA", 0) != 0, tb = c.Int("transB", 0) != 0;
        float alpha = c.Float("alpha", 1), beta = c.Float("beta", 1);
        int m = ta ? a[1] : a[0], k = ta ? a[0] : a[1];
        int kb = tb ? b[1] : b[0], n = tb ? b[0] : b[1];
        if (k != kb) throw c.Error("inputs", $"inner dimensions differ: A {Tensor.FormatShape(a)} (transA={ta}) and B {Tensor.FormatShape(b)} (transB={tb})");
        int[] outShape = [m, n];
        Broadcast? bias = null;
        if (c.HasInput(2))
        {
            var cs = c.InputShape(2);
            try
            {
                if (!Broadcast.OutputShapeOf(outShape, cs).AsSpan().SequenceEqual(outShape)) throw new ArgumentException("");
            }
            catch (ArgumentException) { throw c.Error("input #2 'C'", $"shape {Tensor.FormatShape(cs)} does not broadcast to [{m},{n}]"); }
            bias = new Broadcast(outShape, [cs]);
        }
        c.SetOutput(0, DataType.Float, outShape);
        if (FloatGemmKernel.TryGemm(c, m, n, k, ta, tb, alpha, beta, activation) is { } fast) return fast;
        var at = ta ? new float[m * k] : null;
        // A constant B is laid out once, at compile time, as Bt [N,K] for dot-product rows.
        var constB = c.Constant(1);
        float[]? packedBt = null;
        if (constB is not null)
        {
            packedBt = new float[n * k];
            if (tb) constB.Span<float>().CopyTo(packedBt);
            else FloatGemm.Transpose(constB.Span<float>(), k, n, packedBt);
        }
        var bt = packedBt ?? (tb ? null : new float[n * k]);
        return new DelegateKernel((i, o) =>
        {
            var av = i[0]!.Span<float>(); var y = o[0].Span<float>();
            ReadOnlySpan<float> aRows = av;
            if (at is not null) { FloatGemm.Transpose(av, k, m, at); aRows = at; }
            ReadOnlySpan<float> bRows;
            if (packedBt is not null) bRows = packedBt;
            else if (tb) bRows = i[1]!.Span<float>();
            else { FloatGemm.Transpose(i[1]!.Span<float>(), k, n, bt); bRows = bt; }
            FloatGemm.MultiplyTransposedB(m, n, k, aRows, k, bRows, k, y, n, false);
            if (alpha != 1) System.Numerics.Tensors.TensorPrimitives.Multiply(y, alpha, y);
            if (bias is not null && beta != 0)
            {
                var cv = i[2]!.Span<float>();
                int inner = bias.Inner;
                for (int r = 0; r < bias.Rows; r++)
                {
                    int oc = bias.Offset(0, r), sc = bias.InnerStride[0];
                    for (int j = 0; j < inner; j++) y[r * inner + j] += beta * cv[oc + j * sc];
                }
            }
            if (activation.Kind != FusedActivationKind.None) activation.ApplyAll(y);
        }, "reference.gemm" + activation.PathSuffix);
    }
}
