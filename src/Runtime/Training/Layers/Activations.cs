namespace EdgeAgent.Runtime.Training;

/// <summary>
/// An element-wise activation: shape in = shape out. Subclasses give the function and its derivative
/// written in terms of the input x and output y, whichever is cheaper.
/// </summary>
public abstract class ElementwiseActivation : Layer
{
    private TrainingTensor? _input, _output, _inputGradient;

    public override int[] OutputShape(int[] inputShape) => inputShape;

    protected abstract void Apply(ReadOnlySpan<float> x, Span<float> y);

    protected abstract void Derivative(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx);

    public override TrainingTensor Forward(TrainingTensor input)
    {
        var y = TrainingTensor.Ensure(ref _output, input.Batch, input.Shape.AsSpan(1));
        Apply(input.Span, y.Span);
        _input = Training ? input : null;
        return y;
    }

    public override TrainingTensor? Backward(TrainingTensor outputGradient, bool needInputGradient)
    {
        var x = RequireForward(_input);
        if (!needInputGradient) return null;
        var dx = TrainingTensor.Ensure(ref _inputGradient, x.Batch, x.Shape.AsSpan(1));
        Derivative(x.Span, _output!.Span, outputGradient.Span, dx.Span);
        return dx;
    }

    internal override string Export(OnnxGraphBuilder graph, string input) => graph.Node(OpType, Name, [input]);
}

/// <summary>max(x, 0).</summary>
public sealed class Relu : ElementwiseActivation
{
    public override string OpType => "Relu";
    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = MathF.Max(x[i], 0f); }
    protected override void Derivative(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    { for (int i = 0; i < x.Length; i++) dx[i] = x[i] > 0 ? dy[i] : 0f; }
    public override Layer Clone() => new Relu { Name = Name };
}

/// <summary>min(max(x, lo), hi); Clip(0, 6) is ReLU6. Exported with the bounds as inputs (opset ≥ 11).</summary>
public sealed class Clip(float min, float max) : ElementwiseActivation
{
    public float Min { get; } = min <= max ? min : throw new ArgumentException($"Clip: min {min} > max {max}");
    public float Max { get; } = max;
    public static Clip Relu6() => new(0f, 6f);
    public override string OpType => "Clip";
    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = Math.Clamp(x[i], Min, Max); }
    protected override void Derivative(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    { for (int i = 0; i < x.Length; i++) dx[i] = x[i] > Min && x[i] < Max ? dy[i] : 0f; }
    public override Layer Clone() => new Clip(Min, Max) { Name = Name };
    internal override string Export(OnnxGraphBuilder graph, string input)
    {
        string lo = graph.Constant(Name + ".min", [], [Min]);
        string hi = graph.Constant(Name + ".max", [], [Max]);
        return graph.Node("Clip", Name, [input, lo, hi]);
    }
}

/// <summary>x for x &gt; 0, alpha·x otherwise.</summary>
public sealed class LeakyRelu(float alpha = 0.01f) : ElementwiseActivation
{
    public float Alpha { get; } = alpha;
    public override string OpType => "LeakyRelu";
    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = x[i] > 0 ? x[i] : Alpha * x[i]; }
    protected override void Derivative(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    { for (int i = 0; i < x.Length; i++) dx[i] = x[i] > 0 ? dy[i] : Alpha * dy[i]; }
    public override Layer Clone() => new LeakyRelu(Alpha) { Name = Name };
    internal override string Export(OnnxGraphBuilder graph, string input) => graph.Node("LeakyRelu", Name, [input], OnnxAttributeSpec.Of("alpha", Alpha));
}

/// <summary>x·relu6(x + 3)/6 (ONNX HardSwish, opset 14).</summary>
public sealed class HardSwish : ElementwiseActivation
{
    public override string OpType => "HardSwish";
    protected override void Apply(ReadOnlySpan<float> x, Span<float> y)
    { for (int i = 0; i < x.Length; i++) y[i] = x[i] * Math.Clamp(x[i] + 3f, 0f, 6f) / 6f; }
    protected override void Derivative(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    {
        for (int i = 0; i < x.Length; i++)
            dx[i] = x[i] <= -3f ? 0f : x[i] >= 3f ? dy[i] : dy[i] * (2f * x[i] + 3f) / 6f;
    }
    public override Layer Clone() => new HardSwish { Name = Name };
}

/// <summary>1 / (1 + e^−x).</summary>
public sealed class Sigmoid : ElementwiseActivation
{
    public override string OpType => "Sigmoid";
    protected override void Apply(ReadOnlySpan<float> x, Span<float> y) { for (int i = 0; i < x.Length; i++) y[i] = 1f / (1f + MathF.Exp(-x[i])); }
    protected override void Derivative(ReadOnlySpan<float> x, ReadOnlySpan<float> y, ReadOnlySpan<float> dy, Span<float> dx)
    { for (int i = 0; i < x.Length; i++) dx[i] = dy[i] * y[i] * (1f - y[i]); }
    public override Layer Clone() => new Sigmoid { Name = Name };
}
