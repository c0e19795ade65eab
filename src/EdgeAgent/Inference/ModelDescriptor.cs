namespace EdgeAgent.Daemon.Inference;

/// <summary>
/// What the pipeline needs to know about a model: its identity, the window it expects and how to
/// preprocess it (from the bundle's manifest), and its classes.
/// </summary>
public sealed record ModelDescriptor
{
    public required string Name { get; init; }
    public required string Version { get; init; }
    /// <summary>Samples per window (time steps).</summary>
    public required int WindowSize { get; init; }
    /// <summary>Channels per sample (e.g. 3 for an accelerometer's x, y, z).</summary>
    public required int Channels { get; init; }
    public int InputLength => WindowSize * Channels;
    public required IReadOnlyList<string> ClassNames { get; init; }
    public int ClassCount => ClassNames.Count;
    /// <summary>Length of the backbone embedding the reservoir stores; 0 when the model exposes none.</summary>
    public int EmbeddingLength { get; init; }
    public required Preprocessing Preprocessing { get; init; }
    /// <summary>True when the model's outputs are already probabilities (a trailing Softmax).</summary>
    public bool OutputsProbabilities { get; init; }
}
