using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Compression.Data;

/// <summary>
/// Samples for a model: per sample one float tensor per model input (batch dimension 1), and optional
/// class labels. Used for calibration (labels ignored) and for reports (labels required for accuracy).
/// </summary>
public sealed class SampleSet
{
    public SampleSet(IReadOnlyList<string> inputNames, IReadOnlyList<Tensor[]> samples, int[]? labels, string source)
    {
        if (samples.Count == 0) throw new DataFormatException($"{source}: the data set is empty");
        if (labels is not null && labels.Length != samples.Count)
            throw new DataFormatException($"{source}: {labels.Length} labels for {samples.Count} samples");
        InputNames = inputNames;
        Samples = samples;
        Labels = labels;
        Source = source;
    }

    public IReadOnlyList<string> InputNames { get; }
    /// <summary>Per sample, the tensors in <see cref="InputNames"/> order, each with batch 1.</summary>
    public IReadOnlyList<Tensor[]> Samples { get; }
    public int[]? Labels { get; }
    public string Source { get; }
    public int Count => Samples.Count;

    public SampleSet Take(int count) =>
        count >= Count ? this : new SampleSet(InputNames, Samples.Take(count).ToList(), Labels?.Take(count).ToArray(), Source);
}

/// <summary>Data that cannot be used with the model: wrong shape, type, empty, malformed; the message names the file.</summary>
public sealed class DataFormatException(string message, Exception? inner = null) : Exception(message, inner);
