namespace EdgeAgent.Runtime.Training;

/// <summary>
/// 1-D convolution over [C, L] samples (sensor windows): a <see cref="Conv2d"/> with a 1×k kernel on
/// the same data seen as [C, 1, L]; exported as an ONNX Conv with 1-D attributes and weight [M, C/g, k].
/// </summary>
public sealed class Conv1d : Layer
{
    private readonly Conv2d _conv;
    private int[]? _inputShape;

    public Conv1d(int inChannels, int outChannels, int kernel, int stride = 1, int pad = 0, int groups = 1, int dilation = 1, bool bias = true)
        : this(new Conv2d(inChannels, outChannels, 1, kernel, 1, stride, 0, pad, groups, 1, dilation, bias)) { }

    private Conv1d(Conv2d conv) => _conv = conv;

    public int InChannels => _conv.InChannels;
    public int OutChannels => _conv.OutChannels;
    public int Kernel => _conv.KernelW;
    public int Stride => _conv.StrideW;
    public int Pad => _conv.PadW;
    public int Groups => _conv.Groups;
    public int Dilation => _conv.DilationW;
    public Parameter Weight => _conv.Weight;
    public Parameter? Bias => _conv.Bias;

    public override string OpType => "Conv";
    public override IReadOnlyList<Parameter> Parameters => _conv.Parameters;

    public override int[] OutputShape(int[] inputShape)
    {
        if (inputShape.Length != 2 || inputShape[0] != InChannels) throw ShapeError(inputShape, $"[{InChannels}, L]");
        var o = _conv.OutputShape([inputShape[0], 1, inputShape[1]]);
        return [o[0], o[2]];
    }

    public override void Initialize(Random random) => _conv.Initialize(random);

    public override TrainingTensor Forward(TrainingTensor input)
    {
        var outShape = OutputShape(input.Shape[1..]);
        _conv.Name = Name;
        _conv.Training = Training;
        _inputShape = input.Shape;
        var y = _conv.Forward(input.Reshape([input.Batch, InChannels, 1, input.Shape[2]]));
        return y.Reshape([input.Batch, outShape[0], outShape[1]]);
    }

    public override TrainingTensor? Backward(TrainingTensor outputGradient, bool needInputGradient)
    {
        var shape = _inputShape ?? throw new InvalidOperationException($"layer '{Name}': Backward called before Forward");
        var g = outputGradient.Reshape([outputGradient.Batch, OutChannels, 1, outputGradient.Shape[2]]);
        return _conv.Backward(g, needInputGradient)?.Reshape(shape);
    }

    public override Layer Clone() => new Conv1d((Conv2d)_conv.Clone()) { Name = Name };

    internal override string Export(OnnxGraphBuilder graph, string input) =>
        Conv2d.ExportConv(graph, input, Name, Weight, Bias, [Kernel], [Stride], [Pad, Pad], [Dilation], Groups,
            weightShape: [OutChannels, InChannels / Groups, Kernel]);
}
