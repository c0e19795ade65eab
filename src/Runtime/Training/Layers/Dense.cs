namespace EdgeAgent.Runtime.Training;

/// <summary>
/// Fully connected layer y = x·Wᵀ + b with W stored [out, in], exactly ONNX Gemm with transB = 1,
/// so export copies the weights as they are and per-output-channel quantization is per row.
/// </summary>
public sealed class Dense : Layer
{
    private TrainingTensor? _input, _output, _inputGradient;

    public Dense(int inputs, int outputs)
    {
        if (inputs <= 0 || outputs <= 0) throw new ArgumentOutOfRangeException(nameof(inputs), $"Dense needs positive sizes, got {inputs}→{outputs}");
        Inputs = inputs;
        Outputs = outputs;
        Weight = new Parameter("weight", [outputs, inputs]);
        Bias = new Parameter("bias", [outputs]);
    }

    public int Inputs { get; }
    public int Outputs { get; private set; }
    public Parameter Weight { get; }
    public Parameter Bias { get; }

    public override string OpType => "Gemm";
    public override IReadOnlyList<Parameter> Parameters => [Weight, Bias];

    public override int[] OutputShape(int[] inputShape)
    {
        if (inputShape.Length != 1 || inputShape[0] != Inputs) throw ShapeError(inputShape, $"[{Inputs}] (add a Flatten before it)");
        return [Outputs];
    }

    public override void Initialize(Random random)
    {
        // He-uniform: keeps activation variance through ReLU stacks.
        float bound = MathF.Sqrt(6f / Inputs);
        for (int i = 0; i < Weight.Length; i++) Weight.Value[i] = (float)(random.NextDouble() * 2 - 1) * bound;
        Array.Clear(Bias.Value);
    }

    public override TrainingTensor Forward(TrainingTensor input)
    {
        OutputShape(input.Shape[1..]);
        int batch = input.Batch;
        var y = TrainingTensor.Ensure(ref _output, batch, [Outputs]);
        TrainingBlas.GemmTransB(input.Span, Weight.Value, y.Span, batch, Outputs, Inputs, accumulate: false);
        var ys = y.Span;
        var b = Bias.Value;
        for (int n = 0; n < batch; n++)
        {
            var row = ys.Slice(n * Outputs, Outputs);
            for (int o = 0; o < Outputs; o++) row[o] += b[o];
        }
        _input = Training ? input : null;
        return y;
    }

    public override TrainingTensor? Backward(TrainingTensor outputGradient, bool needInputGradient)
    {
        var x = RequireForward(_input);
        int batch = x.Batch;
        var dy = outputGradient.Span;
        TrainingBlas.GemmTransA(dy, x.Span, Weight.Grad, Outputs, Inputs, batch, accumulate: true);
        var db = Bias.Grad;
        for (int n = 0; n < batch; n++)
        {
            var row = dy.Slice(n * Outputs, Outputs);
            for (int o = 0; o < Outputs; o++) db[o] += row[o];
        }
        if (!needInputGradient) return null;
        var dx = TrainingTensor.Ensure(ref _inputGradient, batch, [Inputs]);
        TrainingBlas.Gemm(dy, Weight.Value, dx.Span, batch, Inputs, Outputs, accumulate: false);
        return dx.Shape.AsSpan().SequenceEqual(x.Shape) ? dx : dx.Reshape(x.Shape);
    }

    /// <summary>
    /// Class-incremental growth: appends <paramref name="extra"/> outputs, keeping every existing row
    /// as it is. New rows start small and random so they can learn without disturbing old logits;
    /// new biases start at the mean old bias so a new class is neither favoured nor suppressed.
    /// </summary>
    public void GrowOutputs(int extra, Random random)
    {
        if (extra <= 0) throw new ArgumentOutOfRangeException(nameof(extra), "grow by at least one output");
        int newOutputs = Outputs + extra;
        var w = new float[newOutputs * Inputs];
        Weight.Value.CopyTo(w, 0);
        float bound = MathF.Sqrt(1f / Inputs);
        for (int i = Outputs * Inputs; i < w.Length; i++) w[i] = (float)(random.NextDouble() * 2 - 1) * bound;
        var b = new float[newOutputs];
        Bias.Value.CopyTo(b, 0);
        float meanBias = Outputs == 0 ? 0 : Bias.Value.Average();
        for (int o = Outputs; o < newOutputs; o++) b[o] = meanBias;
        Weight.Resize([newOutputs, Inputs], w);
        Bias.Resize([newOutputs], b);
        Outputs = newOutputs;
        _output = null;
    }

    public override Layer Clone()
    {
        var copy = new Dense(Inputs, Outputs) { Name = Name };
        copy.Weight.CopyFrom(Weight);
        copy.Bias.CopyFrom(Bias);
        return copy;
    }

    internal override string Export(OnnxGraphBuilder graph, string input)
    {
        string w = graph.Constant(Name + ".weight", [Outputs, Inputs], Weight.Value);
        string b = graph.Constant(Name + ".bias", [Outputs], Bias.Value);
        return graph.Node("Gemm", Name, [input, w, b], OnnxAttributeSpec.Of("transB", 1L));
    }
}
