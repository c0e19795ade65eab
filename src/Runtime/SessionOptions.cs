using EdgeAgent.Runtime.Onnx;

namespace EdgeAgent.Runtime;

/// <summary>How an <see cref="InferenceSession"/> loads and runs a model.</summary>
public sealed record SessionOptions
{
    /// <summary>Worker threads for kernels that split their work (1 = the calling thread only).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Graph rewrites (BatchNorm folding, activation fusion, QDQ fusion) before planning.</summary>
    public bool Optimize { get; init; } = true;

    public LoadLimits Limits { get; init; } = LoadLimits.Default;

    /// <summary>
    /// Intermediate values (by name) to expose as extra outputs, after the graph's own outputs and in this
    /// order; e.g. the embedding that feeds a trainable head. Each must be produced by a node of the graph.
    /// </summary>
    public IReadOnlyList<string> ExtraOutputs { get; init; } = [];
}
