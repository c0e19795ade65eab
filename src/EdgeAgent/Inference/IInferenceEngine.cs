namespace EdgeAgent.Daemon.Inference;

/// <summary>
/// A loaded model, ready to run one window at a time. The daemon's pipeline only talks to this seam; the
/// implementation over the runtime's <c>InferenceSession</c> is chosen by <see cref="InferenceEngines"/>.
/// Implementations are single-threaded (the inference loop owns them) and must not allocate in
/// <see cref="Run"/>: the caller owns every buffer.
/// </summary>
public interface IInferenceEngine : IDisposable
{
    ModelDescriptor Model { get; }

    /// <summary>
    /// Runs the model on one preprocessed window (<see cref="ModelDescriptor.InputLength"/> floats) and writes
    /// the class scores (<see cref="ModelDescriptor.ClassCount"/>) and, when the model exposes one, the
    /// backbone embedding (<see cref="ModelDescriptor.EmbeddingLength"/>, else an empty span).
    /// </summary>
    void Run(ReadOnlySpan<float> input, Span<float> scores, Span<float> embedding);
}

/// <summary>Opens a model file from the store as an engine; throws <see cref="ModelLoadException"/> naming the file and reason.</summary>
public interface IInferenceEngineFactory
{
    IInferenceEngine Load(string bundlePath, string name, string version);
}

public sealed class ModelLoadException(string message, Exception? inner = null) : Exception(message, inner);
