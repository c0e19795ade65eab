using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Daemon.Inference;

/// <summary>
/// A model run through ONNX Runtime because it uses operators our runtime lacks; only when
/// <c>runtime:fallback</c> asks for it. ONNX Runtime's managed API allocates on every run, so this engine
/// does too (the zero-allocation guarantee holds for <see cref="SessionInferenceEngine"/> only).
/// </summary>
internal sealed class FallbackInferenceEngine : IInferenceEngine
{
    private readonly OnnxRuntimeFallback _runtime;
    private readonly string _inputName;
    private readonly Tensor _input;
    private readonly Dictionary<string, Tensor> _feed;
    private readonly string? _embeddingName;

    public FallbackInferenceEngine(OnnxRuntimeFallback runtime, ModelDescriptor model, string inputName, int[] inputShape, string? embeddingName)
    {
        _runtime = runtime;
        Model = model;
        _inputName = inputName;
        _input = Tensor.Allocate(DataType.Float, inputShape);
        _feed = new Dictionary<string, Tensor>(StringComparer.Ordinal) { [inputName] = _input };
        _embeddingName = embeddingName;
    }

    public ModelDescriptor Model { get; }

    public void Run(ReadOnlySpan<float> input, Span<float> scores, Span<float> embedding)
    {
        var model = Model;
        if (input.Length != model.InputLength) throw new ArgumentException($"input buffer has {input.Length} values, the model needs {model.InputLength}");
        input.CopyTo(_input.Span<float>());
        IReadOnlyList<(string Name, Tensor Value)> outputs;
        try
        {
            outputs = _runtime.Run(_feed);
        }
        catch (InferenceException e)
        {
            throw new InvalidOperationException($"{model.Name} {model.Version} (ONNX Runtime, input '{_inputName}'): {e.Message}", e);
        }
        var s = outputs[0].Value.Span<float>();
        if (s.Length != scores.Length) throw new InvalidOperationException($"ONNX Runtime returned {s.Length} scores, the model has {scores.Length} classes");
        s.CopyTo(scores);
        if (_embeddingName is null) return;
        foreach (var (name, value) in outputs)
            if (name == _embeddingName)
            {
                value.Span<float>().CopyTo(embedding);
                return;
            }
        throw new InvalidOperationException($"ONNX Runtime did not return the embedding '{_embeddingName}'");
    }

    public void Dispose() => _runtime.Dispose();
}
