namespace EdgeAgent.Runtime.Training;

/// <summary>Labelled samples stored back to back: inputs [count × sample shape], one class index each.</summary>
public sealed class TrainingSet
{
    public TrainingSet(float[] inputs, int[] sampleShape, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(labels);
        SampleShape = sampleShape;
        SampleSize = TrainingTensor.ShapeSize(sampleShape);
        if (inputs.Length != labels.Length * SampleSize)
            throw new ArgumentException($"{labels.Length} labels need {labels.Length}×{SampleSize} input floats, got {inputs.Length}");
        Inputs = inputs;
        Labels = labels;
    }

    public float[] Inputs { get; }
    public int[] SampleShape { get; }
    public int SampleSize { get; }
    public int[] Labels { get; }
    public int Count => Labels.Length;

    public ReadOnlySpan<float> Sample(int index) => Inputs.AsSpan(index * SampleSize, SampleSize);
}
