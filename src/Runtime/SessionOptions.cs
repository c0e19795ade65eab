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
}
