using System.Numerics.Tensors;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>Softmax, LogSoftmax, BatchNormalization (inference), LayerNormalization, InstanceNormalization, Dropout.</summary>
internal static class NormalizationOps
{
    public static void Register(Dictionary<string, OpCompiler> ops)
    {
        ops["Softmax"] = c => Softmax(c, log: false);
        ops["LogSoftmax"] = c => Softmax(c, log: true);
        ops["BatchNormalization"] = BatchNormalization;
        ops["LayerNormalization"] = LayerNormalization;
        ops["InstanceNormalization"] = InstanceNormalization;
        ops["Dropout"] = Dropout;
    }

    private static OpKernel Softmax(CompileContext c, bool log)
    {
        c.RequireType(0, DataType.Float);
        var shape = c.InputShape(0);
        int rank = shape.Length;
        c.SetOutput(0, DataType.Float, shape);
        int axis = c.Axis(c.Int("axis", c.Opset >= 13 ? -1 : 1), Math.Max(rank, 1));
        // Before opset 13 the input was flattened to 2-d at axis; since 13 the op runs along one axis.
        int outer = 1, dim = 1, inner = 1;
        if (c.Opset < 13)
        {
            for (int d = 0; d < axis; d++) outer *= shape[d];
            for (int d = axis; d < rank; d++) dim *= shape[d];
        }
        else
        {
            for (int d = 0; d < axis; d++) outer *= shape[d];
            dim = rank == 0 ? 1 : shape[axis];
            for (int d = axis + 1; d < rank; d++) inner *= shape[d];
        }
        var column = new float[dim];
        return new DelegateKernel((i, o) =>
        {
            var x = i[0]!.Span<float>(); var y = o[0].Span<float>();
            for (int a = 0; a < outer; a++)
            {
                if (inner == 1)
                {
                    var src = x.Slice(a * dim, dim); var dst = y.Slice(a * dim, dim);
                    Row(src, dst, log);
                    continue;
                }
                for (int b = 0; b < inner; b++)
                {
                    int baseIdx = a * dim * inner + b;
                    for (int k = 0; k < dim; k++) column[k] = x[baseIdx + k * inner];
                    Row(column, column, log);
                    for (int k = 0; k < dim; k++) y[baseIdx + k * inner] = column[k];
                }
            }
        });
    }

    private static void Row(ReadOnlySpan<float> x, Span<float> y, bool log)
    {
        if (x.Length == 0) return;
        float max = TensorPrimitives.Max(x);
        TensorPrimitives.Subtract(x, max, y);
        if (log)
        {
            float sum = 0;
            for (int k = 0; k < y.Length; k++) sum += MathF.Exp(y[k]);
            TensorPrimitives.Subtract(y, MathF.Log(sum), y);
        }
        else
        {
            TensorPrimitives.Exp(y, y);
            float sum = TensorPrimitives.Sum(y);
            TensorPrimitives.Divide(y, sum, y);
        }
    }

    private static OpKernel BatchNormalization(CompileContext c)
    {
        c.RequireType(0, DataType.Float);
        var shape = c.InputShape(0);
        if (shape.Length < 2) throw c.Error("input #0", $"rank {shape.Length} is below 2");
        if (c.Int("training_mode", 0) != 0) throw c.Unsupported("training_mode", "training mode is not supported (inference only)");
        c.SetOutput(0, DataType.Float, shape);
        int channels = shape[1];
        for (int k = 1; k <= 4; k++)
            if (c.InputShape(k) is var s && (s.Length != 1 || s[0] != channels))
                throw c.Error($"input #{k}", $"shape {Tensor.FormatShape(s)} must be [{channels}]");
        float epsilon = c.Float("epsilon", 1e-5f);
        int spatial = 1;
        for (int d = 2; d < shape.Length; d++) spatial *= shape[d];
        int batch = shape[0];
        var scale = new float[channels]; var shift = new float[channels];
        return new DelegateKernel((i, o) =>
        {
            var gamma = i[1]!.Span<float>(); var beta = i[2]!.Span<float>(); var mean = i[3]!.Span<float>(); var variance = i[4]!.Span<float>();
            for (int ch = 0; ch < channels; ch++)
            {
                scale[ch] = gamma[ch] / MathF.Sqrt(variance[ch] + epsilon);
                shift[ch] = beta[ch] - mean[ch] * scale[ch];
            }
            var x = i[0]!.Span<float>(); var y = o[0].Span<float>();
            for (int n = 0; n < batch; n++)
                for (int ch = 0; ch < channels; ch++)
                {
                    int off = (n * channels + ch) * spatial;
                    var src = x.Slice(off, spatial); var dst = y.Slice(off, spatial);
                    ScaleShift(src, scale[ch], shift[ch], dst);
                }
        });
    }

    private static OpKernel LayerNormalization(CompileContext c)
    {
        c.RequireType(0, DataType.Float);
        var shape = c.InputShape(0);
        int axis = c.Axis(c.Int("axis", -1), shape.Length);
        float epsilon = c.Float("epsilon", 1e-5f);
        c.SetOutput(0, DataType.Float, shape);
        int outer = 1, norm = 1;
        for (int d = 0; d < axis; d++) outer *= shape[d];
        for (int d = axis; d < shape.Length; d++) norm *= shape[d];
        var statShape = shape.Select((d, k) => k < axis ? d : 1).ToArray();
        c.SetOutput(1, DataType.Float, statShape);
        c.SetOutput(2, DataType.Float, statShape);
        var normShape = shape[axis..];
        var scalePlan = new Broadcast(normShape, [c.InputShape(1)]);
        Broadcast? biasPlan = c.HasInput(2) ? new Broadcast(normShape, [c.InputShape(2)]) : null;
        var scale = new float[norm]; var bias = new float[norm];
        var scaleT = Tensor.View(DataType.Float, [norm], new byte[norm * 4], 0);
        var biasT = Tensor.View(DataType.Float, [norm], new byte[norm * 4], 0);
        return new DelegateKernel((i, o) =>
        {
            ElementwiseOps.BroadcastCopy(scalePlan, i[1]!, scaleT);
            if (biasPlan is not null) ElementwiseOps.BroadcastCopy(biasPlan, i[2]!, biasT); else biasT.Bytes.Clear();
            var sv = scaleT.Span<float>(); var bv = biasT.Span<float>();
            var x = i[0]!.Span<float>(); var y = o[0].Span<float>();
            for (int a = 0; a < outer; a++)
            {
                var src = x.Slice(a * norm, norm); var dst = y.Slice(a * norm, norm);
                float mean = TensorPrimitives.Sum(src) / norm;
                float variance = 0;
                for (int k = 0; k < norm; k++) { float d = src[k] - mean; variance += d * d; }
                variance /= norm;
                float inv = 1 / MathF.Sqrt(variance + epsilon);
                for (int k = 0; k < norm; k++) dst[k] = (src[k] - mean) * inv * sv[k] + bv[k];
                if (o.Length > 1) o[1].Span<float>()[a] = mean;
                if (o.Length > 2) o[2].Span<float>()[a] = inv;
            }
        });
    }

    private static OpKernel InstanceNormalization(CompileContext c)
    {
        c.RequireType(0, DataType.Float);
        var shape = c.InputShape(0);
        if (shape.Length < 3) throw c.Error("input #0", $"rank {shape.Length} is below 3");
        float epsilon = c.Float("epsilon", 1e-5f);
        c.SetOutput(0, DataType.Float, shape);
        int batch = shape[0], channels = shape[1], spatial = 1;
        for (int d = 2; d < shape.Length; d++) spatial *= shape[d];
        return new DelegateKernel((i, o) =>
        {
            var x = i[0]!.Span<float>(); var y = o[0].Span<float>();
            var gamma = i[1]!.Span<float>(); var beta = i[2]!.Span<float>();
            for (int n = 0; n < batch; n++)
                for (int ch = 0; ch < channels; ch++)
                {
                    int off = (n * channels + ch) * spatial;
                    var src = x.Slice(off, spatial); var dst = y.Slice(off, spatial);
                    float mean = TensorPrimitives.Sum(src) / spatial;
                    float variance = 0;
                    for (int k = 0; k < spatial; k++) { float d = src[k] - mean; variance += d * d; }
                    variance /= spatial;
                    float s = gamma[ch] / MathF.Sqrt(variance + epsilon);
                    ScaleShift(src, s, beta[ch] - mean * s, dst);
                }
        });
    }

    /// <summary>dst = src * scale + shift.</summary>
    internal static void ScaleShift(ReadOnlySpan<float> src, float scale, float shift, Span<float> dst)
    {
        TensorPrimitives.Multiply(src, scale, dst);
        TensorPrimitives.Add(dst, shift, dst);
    }

    private static OpKernel Dropout(CompileContext c)
    {
        // Inference: the identity, with an all-true mask when asked for.
        if (c.HasInput(2) && (c.Constant(2) is not { } training || training.GetInt64(0) != 0))
            throw c.Unsupported("input 'training_mode'", "training mode is not supported (inference only)");
        var shape = c.InputShape(0);
        c.SetOutput(0, c.InputType(0), shape);
        c.SetOutput(1, DataType.Bool, shape);
        return new DelegateKernel((i, o) =>
        {
            i[0]!.Bytes.CopyTo(o[0].Bytes);
            if (o.Length > 1) o[1].Bytes.Fill(1);
        }, "copy");
    }
}
