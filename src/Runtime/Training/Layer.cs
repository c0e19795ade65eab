namespace EdgeAgent.Runtime.Training;

/// <summary>
/// One differentiable operation of a <see cref="Network"/>. Forward keeps what backward needs;
/// backward accumulates parameter gradients and returns the gradient with respect to the input.
/// Shapes exclude the batch dimension unless a member says otherwise.
/// </summary>
public abstract class Layer
{
    /// <summary>Unique within its network; becomes the ONNX node name.</summary>
    public string Name { get; internal set; } = "";

    /// <summary>The ONNX operator this layer exports as (Gemm, Conv, Relu, ...).</summary>
    public abstract string OpType { get; }

    /// <summary>Training mode: batch statistics in normalisation layers, inputs kept for backward.</summary>
    public bool Training { get; internal set; }

    public virtual IReadOnlyList<Parameter> Parameters => [];

    /// <summary>The per-sample output shape for a per-sample input shape; throws naming the mismatch.</summary>
    public abstract int[] OutputShape(int[] inputShape);

    public abstract TrainingTensor Forward(TrainingTensor input);

    /// <summary>
    /// Gradient of the loss with respect to the last forward's input, given the gradient with
    /// respect to its output. When <paramref name="needInputGradient"/> is false (the first
    /// layer) the layer may skip that work and return null.
    /// </summary>
    public abstract TrainingTensor? Backward(TrainingTensor outputGradient, bool needInputGradient);

    /// <summary>Sets parameters to their initial distribution (He for weights, zero bias, unit scale).</summary>
    public virtual void Initialize(Random random) { }

    /// <summary>A deep copy: parameters and running statistics, none of the cached activations.</summary>
    public abstract Layer Clone();

    /// <summary>Appends this layer's ONNX node(s) and initializers; returns the output's value name.</summary>
    internal abstract string Export(OnnxGraphBuilder graph, string input);

    private protected InvalidOperationException ShapeError(int[] input, string expected) =>
        new($"layer '{Name}' ({GetType().Name}) expects {expected} per sample, got {TrainingTensor.Describe(input)}");

    private protected TrainingTensor RequireForward(TrainingTensor? saved) =>
        saved ?? throw new InvalidOperationException($"layer '{Name}': Backward called before Forward");
}
