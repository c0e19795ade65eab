using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>Float Conv (groups, depthwise, pads, strides, dilations, auto_pad; 1-3 spatial dims) and ConvTranspose.</summary>
internal static class ConvOps
{
    public static void Register(Dictionary<string, OpCompiler> ops)
    {
        ops["Conv"] = c => Conv(c, FusedActivation.None);
        ops["ConvTranspose"] = ConvTranspose;
    }

    /// <summary>Conv with an activation folded in by <see cref="Execution.ActivationFusion"/>.</summary>
    public static void RegisterFused(Dictionary<string, OpCompiler> ops) => ops["Conv"] = c => Conv(c, FusedActivation.Of(c));

    private static OpKernel Conv(CompileContext c, FusedActivation activation)
    {
        c.RequireType(0, DataType.Float);
        c.RequireType(1, DataType.Float);
        var x = c.InputShape(0); var w = c.InputShape(1);
        if (x.Length < 3) throw c.Error("input #0 'X'", $"rank {x.Length} is below 3 (N, C, spatial...)");
        if (w.Length != x.Length) throw c.Error("input #1 'W'", $"rank {w.Length} differs from X's {x.Length}");
        int group = (int)c.Int("group", 1);
        int batch = x[0], channels = x[1], m = w[0];
        if (group <= 0 || channels % group != 0 || m % group != 0 || w[1] != channels / group)
            throw c.Error("group", $"{group} groups do not fit X {Tensor.FormatShape(x)} and W {Tensor.FormatShape(w)}");
        var kernel = c.Ints("kernel_shape")?.Select(v => (int)v).ToArray() ?? w[2..];
        if (!kernel.AsSpan().SequenceEqual(w.AsSpan(2))) throw c.Error("kernel_shape", $"[{string.Join(",", kernel)}] differs from W's spatial dims");
        var geo = ConvGeometry.Of(c, x[2..], kernel);
        if (c.HasInput(2) && (c.InputShape(2).Length != 1 || c.InputShape(2)[0] != m)) throw c.Error("input #2 'B'", $"shape must be [{m}]");
        c.SetOutput(0, DataType.Float, [batch, m, .. geo.Output]);
        return FloatConv2DKernel.TryCreate(c, geo, group, activation) ?? new FloatConvKernel(geo, batch, channels, m, group, activation);
    }

    /// <summary>
    /// The general path (any spatial rank, weights computed at run time): im2col + GEMM per group; 1x1
    /// stride-1 unpadded convolutions skip the gather.
    /// </summary>
    private sealed class FloatConvKernel : OpKernel
    {
        private readonly FusedActivation _activation;
        private readonly ConvGeometry _g;
        private readonly int _batch, _channels, _m, _group, _cg, _mg, _kdim;
        private readonly int[] _table;
        private readonly float[] _col;
        private readonly bool _pointwise;

        public FloatConvKernel(ConvGeometry g, int batch, int channels, int m, int group, FusedActivation activation)
        {
            _activation = activation;
            _g = g; _batch = batch; _channels = channels; _m = m; _group = group;
            _cg = channels / group; _mg = m / group; _kdim = _cg * g.KernelSize;
            _pointwise = g.KernelSize == 1 && g.InputSize == g.OutputSize && g.PadBegin.All(p => p == 0) && g.Strides.All(s => s == 1);
            _table = _pointwise ? [] : g.GatherTable();
            _col = _pointwise ? [] : new float[_kdim * g.OutputSize];
        }

        public override string Path => (_pointwise ? "reference.gemm" : "reference.im2col-gemm") + _activation.PathSuffix;

        public override void Run(Tensor?[] inputs, Tensor[] outputs)
        {
            var x = inputs[0]!.Span<float>(); var w = inputs[1]!.Span<float>(); var y = outputs[0].Span<float>();
            ReadOnlySpan<float> bias = inputs.Length > 2 && inputs[2] is { } b ? b.Span<float>() : default;
            int inSize = _g.InputSize, outSize = _g.OutputSize, ks = _g.KernelSize;
            for (int n = 0; n < _batch; n++)
            {
                for (int gi = 0; gi < _group; gi++)
                {
                    var xg = x.Slice((n * _channels + gi * _cg) * inSize, _cg * inSize);
                    ReadOnlySpan<float> cols;
                    if (_pointwise) cols = xg;
                    else
                    {
                        for (int ch = 0; ch < _cg; ch++)
                        {
                            var plane = xg.Slice(ch * inSize, inSize);
                            for (int k = 0; k < ks; k++)
                            {
                                var row = _col.AsSpan((ch * ks + k) * outSize, outSize);
                                var idx = _table.AsSpan(k * outSize, outSize);
                                for (int p = 0; p < outSize; p++) { int o = idx[p]; row[p] = o >= 0 ? plane[o] : 0f; }
                            }
                        }
                        cols = _col;
                    }
                    var yg = y.Slice((n * _m + gi * _mg) * outSize, _mg * outSize);
                    FloatGemm.Multiply(_mg, outSize, _kdim, w.Slice(gi * _mg * _kdim), _kdim, cols, outSize, yg, outSize, false);
                    if (!bias.IsEmpty)
                        for (int j = 0; j < _mg; j++)
                            System.Numerics.Tensors.TensorPrimitives.Add(yg.Slice(j * outSize, outSize), bias[gi * _mg + j], yg.Slice(j * outSize, outSize));
                }
            }
            if (_activation.Kind != FusedActivationKind.None) _activation.ApplyAll(y);
        }
    }

    private static OpKernel ConvTranspose(CompileContext c)
    {
        c.RequireType(0, DataType.Float);
        c.RequireType(1, DataType.Float);
        var x = c.InputShape(0); var w = c.InputShape(1);
        if (x.Length < 3 || w.Length != x.Length) throw c.Error("inputs", $"X {Tensor.FormatShape(x)} and W {Tensor.FormatShape(w)} do not fit");
        int group = (int)c.Int("group", 1);
        int batch = x[0], channels = x[1];
        if (group <= 0 || channels % group != 0 || w[0] != channels) throw c.Error("group", $"{group} groups do not fit X {Tensor.FormatShape(x)} and W {Tensor.FormatShape(w)}");
        int mg = w[1], m = mg * group, cg = channels / group;
        int n = x.Length - 2;
        var kernel = c.Ints("kernel_shape")?.Select(v => (int)v).ToArray() ?? w[2..];
        var strides = c.Ints("strides")?.Select(v => (int)v).ToArray() ?? Enumerable.Repeat(1, n).ToArray();
        var dil = c.Ints("dilations")?.Select(v => (int)v).ToArray() ?? Enumerable.Repeat(1, n).ToArray();
        var outPad = c.Ints("output_padding")?.Select(v => (int)v).ToArray() ?? new int[n];
        var pads = c.Ints("pads")?.Select(v => (int)v).ToArray() ?? new int[2 * n];
        var outputShape = c.Ints("output_shape")?.Select(v => (int)v).ToArray();
        string autoPad = c.String("auto_pad", "NOTSET");
        if (kernel.Length != n || strides.Length != n || dil.Length != n || outPad.Length != n || pads.Length != 2 * n)
            throw c.Error("attributes", "kernel_shape/strides/dilations/output_padding/pads do not match the spatial rank");
        if (!kernel.AsSpan().SequenceEqual(w.AsSpan(2))) throw c.Error("kernel_shape", $"[{string.Join(",", kernel)}] differs from W's spatial dims");
        var inSp = x[2..];
        var outSp = new int[n];
        for (int d = 0; d < n; d++)
        {
            if (strides[d] <= 0 || dil[d] <= 0 || kernel[d] <= 0) throw c.Error("strides", "strides, dilations and kernel sizes must be positive");
            int full = strides[d] * (inSp[d] - 1) + outPad[d] + (kernel[d] - 1) * dil[d] + 1;
            if (outputShape is not null)
            {
                int target = outputShape[outputShape.Length - n + d];
                int total = full - target;
                // A requested size beyond the full output extends the end (like output_padding).
                if (total < 0) { pads[d] = 0; pads[d + n] = total; }
                else if (autoPad == "SAME_UPPER") { pads[d] = total / 2; pads[d + n] = total - total / 2; }
                else { pads[d] = total - total / 2; pads[d + n] = total / 2; }
                outSp[d] = target;
            }
            else if (autoPad is "SAME_UPPER" or "SAME_LOWER")
            {
                int target = inSp[d] * strides[d];
                int total = Math.Max(0, full - target);
                if (autoPad == "SAME_UPPER") { pads[d] = total / 2; pads[d + n] = total - total / 2; }
                else { pads[d] = total - total / 2; pads[d + n] = total / 2; }
                outSp[d] = target;
            }
            else outSp[d] = full - pads[d] - pads[d + n];
            if (outSp[d] <= 0) throw c.Error("pads", $"output dimension {d} would be {outSp[d]}");
        }
        c.SetOutput(0, DataType.Float, [batch, m, .. outSp]);
        int inSize = ConvGeometry.Product(inSp), outSize = ConvGeometry.Product(outSp), ks = ConvGeometry.Product(kernel);
        c.RequireTableSize((long)ks * inSize * Math.Max(1, mg), "kernel_shape");
        // Scatter table: for each kernel tap and input position, the output offset or -1.
        var table = new int[ks * inSize];
        var kIdx = new int[n]; var iIdx = new int[n];
        for (int k = 0; k < ks; k++)
        {
            int rem = k;
            for (int d = n - 1; d >= 0; d--) { kIdx[d] = rem % kernel[d]; rem /= kernel[d]; }
            for (int p = 0; p < inSize; p++)
            {
                rem = p;
                for (int d = n - 1; d >= 0; d--) { iIdx[d] = rem % inSp[d]; rem /= inSp[d]; }
                int offset = 0; bool inside = true;
                for (int d = 0; d < n; d++)
                {
                    int pos = iIdx[d] * strides[d] - pads[d] + kIdx[d] * dil[d];
                    if (pos < 0 || pos >= outSp[d]) { inside = false; break; }
                    offset = offset * outSp[d] + pos;
                }
                table[k * inSize + p] = inside ? offset : -1;
            }
        }
        var col = new float[mg * ks * inSize];
        var wt = new float[mg * ks * cg];
        return new DelegateKernel((i, o) =>
        {
            var xv = i[0]!.Span<float>(); var wv = i[1]!.Span<float>(); var y = o[0].Span<float>();
            ReadOnlySpan<float> bias = i.Length > 2 && i[2] is { } b ? b.Span<float>() : default;
            y.Clear();
            for (int bn = 0; bn < batch; bn++)
                for (int gi = 0; gi < group; gi++)
                {
                    // col[(mg*ks), in] = W_gᵀ[(mg*ks), cg] · X_g[cg, in]
                    FloatGemm.Transpose(wv.Slice(gi * cg * mg * ks, cg * mg * ks), cg, mg * ks, wt);
                    FloatGemm.Multiply(mg * ks, inSize, cg, wt, cg, xv.Slice((bn * channels + gi * cg) * inSize, cg * inSize), inSize, col, inSize, false);
                    for (int j = 0; j < mg; j++)
                    {
                        var plane = y.Slice((bn * m + gi * mg + j) * outSize, outSize);
                        for (int k = 0; k < ks; k++)
                        {
                            var src = col.AsSpan((j * ks + k) * inSize, inSize);
                            var idx = table.AsSpan(k * inSize, inSize);
                            for (int p = 0; p < inSize; p++) if (idx[p] >= 0) plane[idx[p]] += src[p];
                        }
                        if (!bias.IsEmpty) System.Numerics.Tensors.TensorPrimitives.Add(plane, bias[gi * mg + j], plane);
                    }
                }
        }, "reference.col2im-gemm");
    }
}
