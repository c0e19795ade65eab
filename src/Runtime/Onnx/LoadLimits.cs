namespace EdgeAgent.Runtime.Onnx;

/// <summary>
/// Bounds on what a model file may ask for, checked before anything is allocated so that a corrupt or
/// hostile file fails with <see cref="ModelLoadException"/> instead of exhausting memory.
/// </summary>
public sealed record LoadLimits
{
    /// <summary>Largest single tensor (initializer, attribute, external chunk).</summary>
    public long MaxTensorBytes { get; init; } = 1L << 30;

    /// <summary>Largest model file (and sum of external data) read into memory.</summary>
    public long MaxModelBytes { get; init; } = 2L << 30;

    public int MaxRank { get; init; } = 32;

    public int MaxNodes { get; init; } = 1_000_000;

    /// <summary>Nesting of subgraphs (If/Loop bodies) before we call it a bomb.</summary>
    public int MaxGraphDepth { get; init; } = 16;

    public static LoadLimits Default { get; } = new();
}
