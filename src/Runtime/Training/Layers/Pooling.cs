namespace EdgeAgent.Runtime.Training;

/// <summary>Max pooling over [C, H, W] (ONNX MaxPool; padding never wins the max).</summary>
public sealed class MaxPool2d(int kernel, int stride = 0, int pad = 0) : Layer
{
    private TrainingTensor? _output, _inputGradient;
    private int[]? _argMax;
    private int[]? _inputShape;

    public int Kernel { get; } = kernel > 0 ? kernel : throw new ArgumentOutOfRangeException(nameof(kernel));
    public int Stride { get; } = stride > 0 ? stride : kernel;
    public int Pad { get; } = pad >= 0 && pad < kernel ? pad : throw new ArgumentOutOfRangeException(nameof(pad), "pad must be in [0, kernel)");

    public override string OpType => "MaxPool";

    public override int[] OutputShape(int[] s) => PoolShape.Of(this, s, Kernel, Stride, Pad);

    public override TrainingTensor Forward(TrainingTensor input)
    {
        var os = OutputShape(input.Shape[1..]);
        int batch = input.Batch, c = os[0], oh = os[1], ow = os[2], h = input.Shape[2], w = input.Shape[3];
        var y = TrainingTensor.Ensure(ref _output, batch, os);
        if (Training && (_argMax is null || _argMax.Length < y.Length)) _argMax = new int[y.Length];
        var x = input.Span;
        var ys = y.Span;
        int o = 0;
        for (int plane = 0; plane < batch * c; plane++)
        {
            int baseIndex = plane * h * w;
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++, o++)
                {
                    float best = float.NegativeInfinity;
                    int bestAt = -1;
                    for (int ky = 0; ky < Kernel; ky++)
                    {
                        int iy = oy * Stride - Pad + ky;
                        if ((uint)iy >= (uint)h) continue;
                        for (int kx = 0; kx < Kernel; kx++)
                        {
                            int ix = ox * Stride - Pad + kx;
                            if ((uint)ix >= (uint)w) continue;
                            int at = baseIndex + iy * w + ix;
                            if (x[at] > best || bestAt < 0) { best = x[at]; bestAt = at; }
                        }
                    }
                    ys[o] = best;
                    if (Training) _argMax![o] = bestAt;
                }
        }
        _inputShape = Training ? input.Shape : null;
        return y;
    }

    public override TrainingTensor? Backward(TrainingTensor outputGradient, bool needInputGradient)
    {
        var shape = _inputShape ?? throw new InvalidOperationException($"layer '{Name}': Backward called before Forward");
        if (!needInputGradient) return null;
        var dx = TrainingTensor.Ensure(ref _inputGradient, shape[0], shape.AsSpan(1));
        dx.Span.Clear();
        var dy = outputGradient.Span;
        var d = dx.Span;
        for (int o = 0; o < dy.Length; o++) d[_argMax![o]] += dy[o];
        return dx;
    }

    public override Layer Clone() => new MaxPool2d(Kernel, Stride, Pad) { Name = Name };

    internal override string Export(OnnxGraphBuilder graph, string input) =>
        graph.Node("MaxPool", Name, [input], OnnxAttributeSpec.Of("kernel_shape", Kernel, Kernel),
            OnnxAttributeSpec.Of("strides", Stride, Stride), OnnxAttributeSpec.Of("pads", Pad, Pad, Pad, Pad));
}

/// <summary>Average pooling over [C, H, W] (ONNX AveragePool, count_include_pad = 0).</summary>
public sealed class AvgPool2d(int kernel, int stride = 0, int pad = 0) : Layer
{
    private TrainingTensor? _output, _inputGradient;
    private int[]? _inputShape;

    public int Kernel { get; } = kernel > 0 ? kernel : throw new ArgumentOutOfRangeException(nameof(kernel));
    public int Stride { get; } = stride > 0 ? stride : kernel;
    public int Pad { get; } = pad >= 0 && pad < kernel ? pad : throw new ArgumentOutOfRangeException(nameof(pad), "pad must be in [0, kernel)");

    public override string OpType => "AveragePool";

    public override int[] OutputShape(int[] s) => PoolShape.Of(this, s, Kernel, Stride, Pad);

    // Visits every window with the number of real (unpadded) inputs it covers.
    private void ForEachWindow(int[] inShape, int[] outShape, int batch, Action<int, int, int> visit)
    {
        int c = outShape[0], oh = outShape[1], ow = outShape[2], h = inShape[1], w = inShape[2];
        int o = 0;
        for (int plane = 0; plane < batch * c; plane++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++, o++)
                {
                    int y0 = Math.Max(0, oy * Stride - Pad), y1 = Math.Min(h, oy * Stride - Pad + Kernel);
                    int x0 = Math.Max(0, ox * Stride - Pad), x1 = Math.Min(w, ox * Stride - Pad + Kernel);
                    int count = (y1 - y0) * (x1 - x0);
                    for (int iy = y0; iy < y1; iy++)
                        for (int ix = x0; ix < x1; ix++)
                            visit(o, plane * h * w + iy * w + ix, count);
                }
    }

    public override TrainingTensor Forward(TrainingTensor input)
    {
        var os = OutputShape(input.Shape[1..]);
        var y = TrainingTensor.Ensure(ref _output, input.Batch, os);
        var yd = y.Data;
        var xd = input.Data;
        y.Span.Clear();
        ForEachWindow(input.Shape[1..], os, input.Batch, (o, i, count) => yd[o] += xd[i] / count);
        _inputShape = Training ? input.Shape : null;
        return y;
    }

    public override TrainingTensor? Backward(TrainingTensor outputGradient, bool needInputGradient)
    {
        var shape = _inputShape ?? throw new InvalidOperationException($"layer '{Name}': Backward called before Forward");
        if (!needInputGradient) return null;
        var dx = TrainingTensor.Ensure(ref _inputGradient, shape[0], shape.AsSpan(1));
        dx.Span.Clear();
        var dd = dx.Data;
        var dy = outputGradient.Data;
        ForEachWindow(shape[1..], OutputShape(shape[1..]), shape[0], (o, i, count) => dd[i] += dy[o] / count);
        return dx;
    }

    public override Layer Clone() => new AvgPool2d(Kernel, Stride, Pad) { Name = Name };

    internal override string Export(OnnxGraphBuilder graph, string input) =>
        graph.Node("AveragePool", Name, [input], OnnxAttributeSpec.Of("kernel_shape", Kernel, Kernel),
            OnnxAttributeSpec.Of("strides", Stride, Stride), OnnxAttributeSpec.Of("pads", Pad, Pad, Pad, Pad),
            OnnxAttributeSpec.Of("count_include_pad", 0L));
}

/// <summary>Mean over every spatial position: [C, ...] → [C, 1, ...] (ONNX GlobalAveragePool).</summary>
public sealed class GlobalAvgPool : Layer
{
    private TrainingTensor? _output, _inputGradient;
    private int[]? _inputShape;

    public override string OpType => "GlobalAveragePool";

    public override int[] OutputShape(int[] s)
    {
        if (s.Length < 2) throw ShapeError(s, "[C, spatial...]");
        var o = new int[s.Length];
        o[0] = s[0];
        for (int i = 1; i < s.Length; i++) o[i] = 1;
        return o;
    }

    public override TrainingTensor Forward(TrainingTensor input)
    {
        var os = OutputShape(input.Shape[1..]);
        var y = TrainingTensor.Ensure(ref _output, input.Batch, os);
        int planes = input.Batch * os[0], area = input.SampleSize / os[0];
        for (int p = 0; p < planes; p++)
        {
            float s = 0;
            foreach (float v in input.Span.Slice(p * area, area)) s += v;
            y.Data[p] = s / area;
        }
        _inputShape = Training ? input.Shape : null;
        return y;
    }

    public override TrainingTensor? Backward(TrainingTensor outputGradient, bool needInputGradient)
    {
        var shape = _inputShape ?? throw new InvalidOperationException($"layer '{Name}': Backward called before Forward");
        if (!needInputGradient) return null;
        var dx = TrainingTensor.Ensure(ref _inputGradient, shape[0], shape.AsSpan(1));
        int planes = shape[0] * shape[1], area = dx.SampleSize / shape[1];
        for (int p = 0; p < planes; p++) dx.Span.Slice(p * area, area).Fill(outputGradient.Data[p] / area);
        return dx;
    }

    public override Layer Clone() => new GlobalAvgPool { Name = Name };

    internal override string Export(OnnxGraphBuilder graph, string input) => graph.Node("GlobalAveragePool", Name, [input]);
}

internal static class PoolShape
{
    public static int[] Of(Layer layer, int[] s, int kernel, int stride, int pad)
    {
        if (s.Length != 3)
            throw new InvalidOperationException($"layer '{layer.Name}' ({layer.GetType().Name}) expects [C, H, W] per sample, got {TrainingTensor.Describe(s)}");
        int oh = (s[1] + 2 * pad - kernel) / stride + 1, ow = (s[2] + 2 * pad - kernel) / stride + 1;
        if (oh <= 0 || ow <= 0)
            throw new InvalidOperationException($"layer '{layer.Name}': a {kernel}x{kernel} window does not fit {TrainingTensor.Describe(s)}");
        return [s[0], oh, ow];
    }
}
