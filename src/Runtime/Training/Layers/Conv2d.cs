using System.Buffers;

namespace EdgeAgent.Runtime.Training;

/// <summary>
/// 2-D convolution over [C, H, W] samples with ONNX Conv semantics: symmetric padding, strides,
/// dilations and groups (groups = C is depthwise). Weight [M, C/groups, kh, kw]. Each sample is
/// lowered with im2col to one matrix product per group; backward recomputes the columns rather than
/// keeping them, which would cost batch × C·kh·kw × H·W floats.
/// </summary>
public sealed class Conv2d : Layer
{
    private TrainingTensor? _input, _output, _inputGradient;

    public Conv2d(int inChannels, int outChannels, int kernelH, int kernelW, int strideH = 1, int strideW = 1,
        int padH = 0, int padW = 0, int groups = 1, int dilationH = 1, int dilationW = 1, bool bias = true)
    {
        if (inChannels <= 0 || outChannels <= 0 || kernelH <= 0 || kernelW <= 0 || strideH <= 0 || strideW <= 0 ||
            padH < 0 || padW < 0 || groups <= 0 || dilationH <= 0 || dilationW <= 0)
            throw new ArgumentOutOfRangeException(nameof(inChannels), "Conv2d sizes must be positive (pads non-negative)");
        if (inChannels % groups != 0 || outChannels % groups != 0)
            throw new ArgumentException($"Conv2d: groups={groups} must divide in channels {inChannels} and out channels {outChannels}");
        InChannels = inChannels; OutChannels = outChannels; KernelH = kernelH; KernelW = kernelW;
        StrideH = strideH; StrideW = strideW; PadH = padH; PadW = padW; Groups = groups; DilationH = dilationH; DilationW = dilationW;
        Weight = new Parameter("weight", [outChannels, inChannels / groups, kernelH, kernelW]);
        Bias = bias ? new Parameter("bias", [outChannels]) : null;
    }

    public int InChannels { get; }
    public int OutChannels { get; }
    public int KernelH { get; }
    public int KernelW { get; }
    public int StrideH { get; }
    public int StrideW { get; }
    public int PadH { get; }
    public int PadW { get; }
    public int Groups { get; }
    public int DilationH { get; }
    public int DilationW { get; }
    public Parameter Weight { get; }
    public Parameter? Bias { get; }

    public override string OpType => "Conv";
    public override IReadOnlyList<Parameter> Parameters => Bias is null ? [Weight] : [Weight, Bias];

    private ConvGeometry Geometry(int h, int w) =>
        new(InChannels / Groups, h, w, KernelH, KernelW, StrideH, StrideW, PadH, PadW, DilationH, DilationW);

    public override int[] OutputShape(int[] inputShape)
    {
        if (inputShape.Length != 3 || inputShape[0] != InChannels) throw ShapeError(inputShape, $"[{InChannels}, H, W]");
        var g = Geometry(inputShape[1], inputShape[2]);
        if (g.OutH <= 0 || g.OutW <= 0) throw ShapeError(inputShape, $"at least a {KernelH}x{KernelW} window after padding");
        return [OutChannels, g.OutH, g.OutW];
    }

    public override void Initialize(Random random)
    {
        int fanIn = InChannels / Groups * KernelH * KernelW;
        float bound = MathF.Sqrt(6f / fanIn);
        for (int i = 0; i < Weight.Length; i++) Weight.Value[i] = (float)(random.NextDouble() * 2 - 1) * bound;
        if (Bias is not null) Array.Clear(Bias.Value);
    }

    public override TrainingTensor Forward(TrainingTensor input)
    {
        var outShape = OutputShape(input.Shape[1..]);
        int batch = input.Batch, h = input.Shape[2], w = input.Shape[3];
        var geo = Geometry(h, w);
        var y = TrainingTensor.Ensure(ref _output, batch, outShape);
        int cols = geo.ColumnCols, inPer = InChannels * h * w, outPer = OutChannels * cols;
        int mg = OutChannels / Groups, kg = geo.ColumnRows, inGroup = geo.Channels * h * w;
        float[]? colBuf = geo.IsPointwise ? null : ArrayPool<float>.Shared.Rent(kg * cols);
        try
        {
            for (int n = 0; n < batch; n++)
            {
                var image = input.Span.Slice(n * inPer, inPer);
                var output = y.Span.Slice(n * outPer, outPer);
                for (int g = 0; g < Groups; g++)
                {
                    ReadOnlySpan<float> col;
                    if (colBuf is null) col = image.Slice(g * inGroup, inGroup);
                    else
                    {
                        geo.Im2Col(image.Slice(g * inGroup, inGroup), colBuf.AsSpan(0, kg * cols));
                        col = colBuf.AsSpan(0, kg * cols);
                    }
                    TrainingBlas.Gemm(Weight.Value.AsSpan(g * mg * kg, mg * kg), col, output.Slice(g * mg * cols, mg * cols), mg, cols, kg, accumulate: false);
                }
                if (Bias is not null)
                    for (int m = 0; m < OutChannels; m++)
                    {
                        float b = Bias.Value[m];
                        foreach (ref float v in output.Slice(m * cols, cols)) v += b;
                    }
            }
        }
        finally
        {
            if (colBuf is not null) ArrayPool<float>.Shared.Return(colBuf);
        }
        _input = Training ? input : null;
        return y;
    }

    public override TrainingTensor? Backward(TrainingTensor outputGradient, bool needInputGradient)
    {
        var x = RequireForward(_input);
        int batch = x.Batch, h = x.Shape[2], w = x.Shape[3];
        var geo = Geometry(h, w);
        int cols = geo.ColumnCols, inPer = InChannels * h * w, outPer = OutChannels * cols;
        int mg = OutChannels / Groups, kg = geo.ColumnRows, inGroup = geo.Channels * h * w;
        TrainingTensor? dx = needInputGradient ? TrainingTensor.Ensure(ref _inputGradient, batch, x.Shape.AsSpan(1)) : null;
        dx?.Span.Clear();
        float[] colBuf = ArrayPool<float>.Shared.Rent(kg * cols);
        float[] dColBuf = ArrayPool<float>.Shared.Rent(kg * cols);
        try
        {
            var dCol = dColBuf.AsSpan(0, kg * cols);
            for (int n = 0; n < batch; n++)
            {
                var image = x.Span.Slice(n * inPer, inPer);
                var dOut = outputGradient.Span.Slice(n * outPer, outPer);
                if (Bias is not null)
                    for (int m = 0; m < OutChannels; m++)
                    {
                        float s = 0;
                        foreach (float v in dOut.Slice(m * cols, cols)) s += v;
                        Bias.Grad[m] += s;
                    }
                for (int g = 0; g < Groups; g++)
                {
                    ReadOnlySpan<float> col;
                    if (geo.IsPointwise) col = image.Slice(g * inGroup, inGroup);
                    else
                    {
                        geo.Im2Col(image.Slice(g * inGroup, inGroup), colBuf.AsSpan(0, kg * cols));
                        col = colBuf.AsSpan(0, kg * cols);
                    }
                    var dOutG = dOut.Slice(g * mg * cols, mg * cols);
                    var wG = Weight.Value.AsSpan(g * mg * kg, mg * kg);
                    TrainingBlas.GemmTransB(dOutG, col, Weight.Grad.AsSpan(g * mg * kg, mg * kg), mg, kg, cols, accumulate: true);
                    if (dx is null) continue;
                    var dImage = dx.Span.Slice(n * inPer + g * inGroup, inGroup);
                    if (geo.IsPointwise)
                        TrainingBlas.GemmTransA(wG, dOutG, dImage, kg, cols, mg, accumulate: true);
                    else
                    {
                        TrainingBlas.GemmTransA(wG, dOutG, dCol, kg, cols, mg, accumulate: false);
                        geo.Col2ImAdd(dCol, dImage);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(colBuf);
            ArrayPool<float>.Shared.Return(dColBuf);
        }
        return dx;
    }

    public override Layer Clone()
    {
        var copy = new Conv2d(InChannels, OutChannels, KernelH, KernelW, StrideH, StrideW, PadH, PadW, Groups, DilationH, DilationW, Bias is not null) { Name = Name };
        copy.Weight.CopyFrom(Weight);
        copy.Bias?.CopyFrom(Bias!);
        return copy;
    }

    internal override string Export(OnnxGraphBuilder graph, string input) =>
        ExportConv(graph, input, Name, Weight, Bias, [KernelH, KernelW], [StrideH, StrideW], [PadH, PadW, PadH, PadW], [DilationH, DilationW], Groups);

    internal static string ExportConv(OnnxGraphBuilder graph, string input, string name, Parameter weight, Parameter? bias,
        long[] kernel, long[] strides, long[] pads, long[] dilations, int groups, int[]? weightShape = null)
    {
        var inputs = new List<string> { input, graph.Constant(name + ".weight", weightShape ?? weight.Shape, weight.Value) };
        if (bias is not null) inputs.Add(graph.Constant(name + ".bias", bias.Shape, bias.Value));
        return graph.Node("Conv", name, inputs,
            OnnxAttributeSpec.Of("kernel_shape", kernel), OnnxAttributeSpec.Of("strides", strides),
            OnnxAttributeSpec.Of("pads", pads), OnnxAttributeSpec.Of("dilations", dilations),
            OnnxAttributeSpec.Of("group", (long)groups));
    }
}
