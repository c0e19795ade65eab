using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>
/// QuantizeLinear, DequantizeLinear (per tensor and per axis), DynamicQuantizeLinear, MatMulInteger,
/// QLinearMatMul, ConvInteger and QLinearConv. Accumulation is exact in int32; requantization rounds
/// half to even and saturates, as ONNX specifies.
/// </summary>
internal static class QuantizedOps
{
    public static void Register(Dictionary<string, OpCompiler> ops)
    {
        ops["QuantizeLinear"] = QuantizeLinear;
        ops["DequantizeLinear"] = DequantizeLinear;
        ops["DynamicQuantizeLinear"] = DynamicQuantizeLinear;
        ops["MatMulInteger"] = c => MatMul(c, quantizedOutput: false);
        ops["QLinearMatMul"] = c => MatMul(c, quantizedOutput: true);
        ops["ConvInteger"] = c => Conv(c, quantizedOutput: false);
        ops["QLinearConv"] = c => Conv(c, quantizedOutput: true);
    }

    /// <summary>The int8 nodes <see cref="Execution.QdqFusion"/> creates: they only exist on the kernel paths.</summary>
    public static void RegisterFused(Dictionary<string, OpCompiler> ops)
    {
        ops["QLinearConv"] = c => Conv(c, quantizedOutput: true, fused: true);
        ops["QLinearMatMul"] = FusedMatMul;
    }

    private static OpKernel FusedMatMul(CompileContext c)
    {
        c.RequireType(0, DataType.UInt8, DataType.Int8);
        var a = c.InputShape(0);
        var w = c.InputShape(3);
        if (a.Length == 0 || w.Length != 2) throw c.Error("inputs", $"A {Tensor.FormatShape(a)} and W {Tensor.FormatShape(w)} do not fit a fused int8 GEMM");
        int n = c.Int("transB", 0) != 0 ? w[0] : w[1];
        c.SetOutput(0, c.InputType(7), [.. a[..^1], n]);
        return Int8GemmKernel.TryCreate(c, quantizedOutput: true)
            ?? throw c.Error("inputs", "the fused int8 GEMM needs constant weights and per-tensor activation parameters");
    }

    private static readonly DataType[] s_quantTypes = [DataType.UInt8, DataType.Int8, DataType.UInt16, DataType.Int16, DataType.Int32];

    /// <summary>(outer, dim, inner) around the quantization axis, or per tensor when the scale has one element.</summary>
    private static (int dim, int inner) AxisLayout(CompileContext c, int[] shape, int scaleInput)
    {
        var scale = c.InputShape(scaleInput);
        int count = ConvGeometry.Product(scale);
        if (scale.Length == 0 || count == 1 && scale.Length <= 1) return (1, 1);
        if (c.Int("block_size", 0) != 0) throw c.Unsupported("block_size", "blocked quantization is not supported");
        if (scale.Length != 1) throw c.Error($"input #{scaleInput} (scale)", $"shape {Tensor.FormatShape(scale)} must be a scalar or 1-d");
        int axis = c.Axis(c.Int("axis", 1), shape.Length);
        if (shape[axis] != count) throw c.Error($"input #{scaleInput} (scale)", $"{count} scales for dimension {axis} of size {shape[axis]}");
        int inner = 1;
        for (int d = axis + 1; d < shape.Length; d++) inner *= shape[d];
        return (count, inner);
    }

    private static (long lo, long hi) Range(DataType t) => t switch
    {
        DataType.UInt8 => (0, 255),
        DataType.Int8 => (-128, 127),
        DataType.UInt16 => (0, 65535),
        DataType.Int16 => (-32768, 32767),
        _ => (int.MinValue, int.MaxValue),
    };

    private static OpKernel QuantizeLinear(CompileContext c)
    {
        c.RequireType(0, DataType.Float, DataType.Int32, DataType.Float16, DataType.Double);
        var shape = c.InputShape(0);
        DataType outType = c.HasInput(2) ? c.InputType(2) : c.Int("output_dtype", 0) is var od and > 0 ? (DataType)od : DataType.UInt8;
        if (Array.IndexOf(s_quantTypes, outType) < 0 || outType == DataType.Int32)
            throw c.Unsupported("input #2 (zero point)", $"quantizing to {outType.ToName()} is not supported");
        var (dim, inner) = AxisLayout(c, shape, 1);
        c.SetOutput(0, outType, shape);
        var (lo, hi) = Range(outType);
        if (dim == 1 && c.InputType(0) == DataType.Float && c.InputType(1) == DataType.Float && outType is DataType.UInt8 or DataType.Int8)
        {
            return new QuantizeKernel(outType == DataType.Int8, shape);
        }
        return new DelegateKernel((i, o) =>
        {
            var x = i[0]!; var scale = i[1]!; var zp = i.Length > 2 ? i[2] : null; var y = o[0];
            int n = x.ElementCount;
            for (int e = 0; e < n; e++)
            {
                int ch = dim == 1 ? 0 : e / inner % dim;
                double s = CastOps.GetDouble(scale, ch);
                long z = zp is null ? 0 : zp.GetInt64(ch);
                double q = Math.Round((float)CastOps.GetDouble(x, e) / (float)s, MidpointRounding.ToEven);
                if (double.IsNaN(q)) q = 0;
                long v = (long)Math.Clamp(q + z, lo, hi);
                CastOps.SetFromInt64(y, e, v);
            }
        }, "quantize");
    }

    /// <summary>Per-tensor 8-bit → float: (q − zero point) · scale.</summary>
    private static void DequantizeToFloat(ReadOnlySpan<byte> x, float scale, int zeroPoint, Span<float> y, bool signed)
    {
        y = y[..x.Length];
        for (int e = 0; e < x.Length; e++) y[e] = ((signed ? (sbyte)x[e] : (int)x[e]) - zeroPoint) * scale;
    }

    private static OpKernel DequantizeLinear(CompileContext c)
    {
        c.RequireType(0, s_quantTypes);
        var shape = c.InputShape(0);
        var (dim, inner) = AxisLayout(c, shape, 1);
        var outType = c.InputType(1);
        if (outType is not (DataType.Float or DataType.Float16 or DataType.Double)) throw c.Error("input #1 (scale)", $"type {outType.ToName()} is not supported");
        c.SetOutput(0, outType, shape);
        if (dim == 1 && outType == DataType.Float && c.InputType(0) is DataType.UInt8 or DataType.Int8)
        {
            bool signed = c.InputType(0) == DataType.Int8;
            return new DelegateKernel((i, o) =>
                DequantizeToFloat(i[0]!.Bytes, i[1]!.Span<float>()[0], i.Length > 2 && i[2] is { } z ? (int)z.GetInt64(0) : 0, o[0].Span<float>(), signed),
                signed ? "dequantize.s8-f32" : "dequantize.u8-f32");
        }
        return new DelegateKernel((i, o) =>
        {
            var x = i[0]!; var scale = i[1]!; var zp = i.Length > 2 ? i[2] : null; var y = o[0];
            int n = x.ElementCount;
            bool fast = y.DataType == DataType.Float && scale.DataType == DataType.Float;
            var yf = fast ? y.Span<float>() : default;
            var sf = fast ? scale.Span<float>() : default;
            for (int e = 0; e < n; e++)
            {
                int ch = dim == 1 ? 0 : e / inner % dim;
                long z = zp is null ? 0 : zp.GetInt64(ch);
                long q = x.GetInt64(e) - z;
                if (fast) yf[e] = q * sf[ch];
                else CastOps.SetFromDouble(y, e, (float)q * (float)CastOps.GetDouble(scale, ch));
            }
        }, "dequantize");
    }

    private static OpKernel DynamicQuantizeLinear(CompileContext c)
    {
        c.RequireType(0, DataType.Float);
        var shape = c.InputShape(0);
        c.SetOutput(0, DataType.UInt8, shape);
        c.SetOutput(1, DataType.Float, []);
        c.SetOutput(2, DataType.UInt8, []);
        return new DelegateKernel((i, o) =>
        {
            var x = i[0]!.Span<float>();
            float min = 0, max = 0;
            foreach (var v in x) { min = Math.Min(min, v); max = Math.Max(max, v); }
            float scale = (max - min) / 255f;
            float zpf = scale == 0 ? 0 : Math.Clamp(MathF.Round((0 - min) / scale, MidpointRounding.ToEven), 0, 255);
            byte zp = (byte)zpf;
            var y = o[0].Span<byte>();
            for (int e = 0; e < x.Length; e++)
                y[e] = scale == 0 ? zp : (byte)Math.Clamp(MathF.Round(x[e] / scale, MidpointRounding.ToEven) + zp, 0, 255);
            o[1].Span<float>()[0] = scale;
            o[2].Span<byte>()[0] = zp;
        }, "quantize");
    }

    /// <summary>Copies 8-bit (or wider integer) values into int32 minus a zero point (per row when given per row).</summary>
    private static void Widen(Tensor t, Span<int> dst, Tensor? zp, int zpPeriodInner, int zpCount)
    {
        int n = t.ElementCount;
        switch (t.DataType)
        {
            case DataType.UInt8:
            {
                var s = t.Span<byte>();
                for (int e = 0; e < n; e++) dst[e] = s[e] - ZeroPoint(zp, e, zpPeriodInner, zpCount);
                break;
            }
            case DataType.Int8:
            {
                var s = t.Span<sbyte>();
                for (int e = 0; e < n; e++) dst[e] = s[e] - ZeroPoint(zp, e, zpPeriodInner, zpCount);
                break;
            }
            default:
                for (int e = 0; e < n; e++) dst[e] = (int)t.GetInt64(e) - ZeroPoint(zp, e, zpPeriodInner, zpCount);
                break;
        }
    }

    private static int ZeroPoint(Tensor? zp, int e, int inner, int count)
    {
        if (zp is null) return 0;
        if (count <= 1) return (int)zp.GetInt64(0);
        return (int)zp.GetInt64(e / inner % count);
    }

    private static void IntGemm(int m, int n, int k, ReadOnlySpan<int> a, ReadOnlySpan<int> b, Span<int> c)
    {
        c[..(m * n)].Clear();
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * n, n);
            for (int p = 0; p < k; p++)
            {
                int v = a[i * k + p];
                if (v == 0) continue;
                var brow = b.Slice(p * n, n);
                for (int j = 0; j < n; j++) row[j] += v * brow[j];
            }
        }
    }

    private static OpKernel MatMul(CompileContext c, bool quantizedOutput)
    {
        int ia = 0, ib = quantizedOutput ? 3 : 1;
        c.RequireType(ia, DataType.UInt8, DataType.Int8);
        c.RequireType(ib, DataType.UInt8, DataType.Int8);
        var s = MatMulOps.BatchedShape.Of(c, c.InputShape(ia), c.InputShape(ib));
        int m = s.M, n = s.N, k = s.K;
        DataType outType = quantizedOutput ? c.InputType(7) : DataType.Int32;
        c.SetOutput(0, outType, s.Output);
        if (Int8GemmKernel.TryCreate(c, quantizedOutput) is { } fast) return fast;
        int azpIn = quantizedOutput ? 2 : 2, bzpIn = quantizedOutput ? 5 : 3;
        int aCount = ConvGeometry.Product(c.InputShape(ia)), bCount = ConvGeometry.Product(c.InputShape(ib));
        var aw = new int[aCount]; var bw = new int[bCount]; var acc = new int[m * n];
        int azpCount = c.HasInput(azpIn) ? ConvGeometry.Product(c.InputShape(azpIn)) : 0;
        int bzpCount = c.HasInput(bzpIn) ? ConvGeometry.Product(c.InputShape(bzpIn)) : 0;
        int asCount = quantizedOutput ? ConvGeometry.Product(c.InputShape(1)) : 0;
        int bsCount = quantizedOutput ? ConvGeometry.Product(c.InputShape(4)) : 0;
        var (lo, hi) = quantizedOutput ? Range(outType) : (0, 0);
        return new DelegateKernel((i, o) =>
        {
            // a's zero point may be per row (M), b's per column (N).
            Widen(i[ia]!, aw, i.Length > azpIn ? i[azpIn] : null, k, azpCount);
            Widen(i[ib]!, bw, i.Length > bzpIn ? i[bzpIn] : null, 1, bzpCount);
            var y = o[0];
            for (int t = 0; t < s.Batches; t++)
            {
                IntGemm(m, n, k, aw.AsSpan(s.OffsetA[t]), bw.AsSpan(s.OffsetB[t]), acc);
                int yBase = t * m * n;
                if (!quantizedOutput) { acc.AsSpan().CopyTo(y.Span<int>().Slice(yBase)); continue; }
                float ys = (float)CastOps.GetDouble(i[6]!, 0);
                long yzp = i.Length > 7 && i[7] is { } z ? z.GetInt64(0) : 0;
                for (int r = 0; r < m; r++)
                {
                    float sa = (float)CastOps.GetDouble(i[1]!, asCount > 1 ? r % asCount : 0);
                    for (int j = 0; j < n; j++)
                    {
                        float sb = (float)CastOps.GetDouble(i[4]!, bsCount > 1 ? j % bsCount : 0);
                        float scale = sa * sb / ys;
                        double q = Math.Round(acc[r * n + j] * (double)scale, MidpointRounding.ToEven) + yzp;
                        CastOps.SetFromInt64(y, yBase + r * n + j, (long)Math.Clamp(q, lo, hi));
                    }
                }
            }
        }, "int8-gemm-reference");
    }

    private static OpKernel Conv(CompileContext c, bool quantizedOutput, bool fused = false)
    {
        int ix = 0, iw = quantizedOutput ? 3 : 1;
        c.RequireType(ix, DataType.UInt8, DataType.Int8);
        c.RequireType(iw, DataType.UInt8, DataType.Int8);
        var x = c.InputShape(ix); var w = c.InputShape(iw);
        if (x.Length < 3 || w.Length != x.Length) throw c.Error("inputs", $"X {Tensor.FormatShape(x)} and W {Tensor.FormatShape(w)} do not fit");
        int group = (int)c.Int("group", 1);
        int batch = x[0], channels = x[1], m = w[0];
        if (group <= 0 || channels % group != 0 || m % group != 0 || w[1] != channels / group)
            throw c.Error("group", $"{group} groups do not fit X {Tensor.FormatShape(x)} and W {Tensor.FormatShape(w)}");
        var kernel = c.Ints("kernel_shape")?.Select(v => (int)v).ToArray() ?? w[2..];
        var geo = ConvGeometry.Of(c, x[2..], kernel);
        DataType outType = quantizedOutput ? c.InputType(7) : DataType.Int32;
        c.SetOutput(0, outType, [batch, m, .. geo.Output]);
        if (Int8ConvKernel.TryCreate(c, quantizedOutput, geo, group) is { } fast) return fast;
        if (fused) throw c.Error("inputs", "the fused int8 convolution needs constant weights, per-tensor activation parameters and 1-D or 2-D input");
        int cg = channels / group, mg = m / group, ks = geo.KernelSize, kdim = cg * ks, inSize = geo.InputSize, outSize = geo.OutputSize;
        var table = geo.GatherTable();
        int xzpIn = 2, wzpIn = quantizedOutput ? 5 : 3;
        int wzpCount = c.HasInput(wzpIn) ? ConvGeometry.Product(c.InputShape(wzpIn)) : 0;
        int wsCount = quantizedOutput ? ConvGeometry.Product(c.InputShape(4)) : 0;
        var xw = new int[ConvGeometry.Product(x)]; var ww = new int[ConvGeometry.Product(w)];
        var col = new int[kdim * outSize]; var acc = new int[mg * outSize];
        var (lo, hi) = quantizedOutput ? Range(outType) : (0, 0);
        int perFilter = kdim;
        return new DelegateKernel((i, o) =>
        {
            Widen(i[ix]!, xw, i.Length > xzpIn ? i[xzpIn] : null, 1, 1);
            Widen(i[iw]!, ww, i.Length > wzpIn ? i[wzpIn] : null, perFilter, wzpCount);
            var y = o[0];
            Tensor? bias = quantizedOutput && i.Length > 8 ? i[8] : null;
            for (int bn = 0; bn < batch; bn++)
                for (int gi = 0; gi < group; gi++)
                {
                    for (int ch = 0; ch < cg; ch++)
                    {
                        int plane = (bn * channels + gi * cg + ch) * inSize;
                        for (int k = 0; k < ks; k++)
                        {
                            var row = col.AsSpan((ch * ks + k) * outSize, outSize);
                            var idx = table.AsSpan(k * outSize, outSize);
                            // Padding contributes x_zp - x_zp = 0.
                            for (int p = 0; p < outSize; p++) row[p] = idx[p] >= 0 ? xw[plane + idx[p]] : 0;
                        }
                    }
                    IntGemm(mg, outSize, kdim, ww.AsSpan(gi * mg * kdim), col, acc);
                    for (int j = 0; j < mg; j++)
                    {
                        int oc = gi * mg + j;
                        int yBase = (bn * m + oc) * outSize;
                        if (!quantizedOutput)
                        {
                            acc.AsSpan(j * outSize, outSize).CopyTo(y.Span<int>().Slice(yBase, outSize));
                            continue;
                        }
                        float scale = (float)CastOps.GetDouble(i[1]!, 0) * (float)CastOps.GetDouble(i[4]!, wsCount > 1 ? oc : 0) / (float)CastOps.GetDouble(i[6]!, 0);
                        long yzp = i[7] is { } z ? z.GetInt64(0) : 0;
                        int b = bias is null ? 0 : (int)bias.GetInt64(oc);
                        for (int p = 0; p < outSize; p++)
                        {
                            double q = Math.Round((acc[j * outSize + p] + b) * (double)scale, MidpointRounding.ToEven) + yzp;
                            CastOps.SetFromInt64(y, yBase + p, (long)Math.Clamp(q, lo, hi));
                        }
                    }
                }
        }, "int8-conv-reference");
    }
}
