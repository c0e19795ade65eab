namespace EdgeAgent.Runtime.Training;

/// <summary>[d1, d2, ...] → [d1·d2·...] per sample (ONNX Flatten, axis = 1). No copy.</summary>
public sealed class Flatten : Layer
{
    private int[]? _inputShape;

    public override string OpType => "Flatten";

    public override int[] OutputShape(int[] inputShape) => [TrainingTensor.ShapeSize(inputShape)];

    public override TrainingTensor Forward(TrainingTensor input)
    {
        _inputShape = input.Shape;
        return input.Reshape([input.Batch, input.SampleSize]);
    }

    public override TrainingTensor? Backward(TrainingTensor outputGradient, bool needInputGradient) =>
        needInputGradient ? outputGradient.Reshape(_inputShape ?? throw new InvalidOperationException($"layer '{Name}': Backward called before Forward")) : null;

    public override Layer Clone() => new Flatten { Name = Name };

    internal override string Export(OnnxGraphBuilder graph, string input) => graph.Node("Flatten", Name, [input], OnnxAttributeSpec.Of("axis", 1L));
}
