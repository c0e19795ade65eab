using EdgeAgent.Compression.Data;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Compression.Training;

/// <summary>Between the exporter's loaded data (<see cref="SampleSet"/>) and the training engine's <see cref="TrainingSet"/>.</summary>
public static class LabeledData
{
    /// <summary>
    /// Packs single-input labelled samples back to back for <paramref name="network"/>; throws
    /// <see cref="DataFormatException"/> naming the source when they do not fit it.
    /// </summary>
    public static TrainingSet ToTrainingSet(SampleSet set, Network network)
    {
        if (set.InputNames.Count != 1) throw new DataFormatException($"{set.Source}: {set.InputNames.Count} inputs per sample; a trainable model has one");
        var labels = set.Labels ?? throw new DataFormatException($"{set.Source}: has no labels (training needs labelled data)");
        int size = network.InputSize, classes = network.OutputSize;
        var inputs = new float[set.Count * size];
        for (int i = 0; i < set.Count; i++)
        {
            var t = set.Samples[i][0];
            if (t.ElementCount != size)
                throw new DataFormatException($"{set.Source}: sample {i} has {t.ElementCount} values, the model's input {TrainingTensor.Describe(network.InputShape)} needs {size}");
            t.Span<float>().CopyTo(inputs.AsSpan(i * size));
            if ((uint)labels[i] >= (uint)classes)
                throw new DataFormatException($"{set.Source}: sample {i} has label {labels[i]}, the model has {classes} outputs");
        }
        return new TrainingSet(inputs, network.InputShape, labels);
    }

    /// <summary>Top-1 accuracy of <paramref name="network"/> (eval mode) on <paramref name="data"/>.</summary>
    public static double Accuracy(Network network, TrainingSet data)
    {
        var outputs = network.Predict(data.Inputs, data.Count);
        int classes = network.OutputSize, correct = 0;
        for (int i = 0; i < data.Count; i++)
            if (ArgMax(outputs.AsSpan(i * classes, classes)) == data.Labels[i]) correct++;
        return data.Count == 0 ? 0 : correct / (double)data.Count;
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
