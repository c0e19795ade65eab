using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Daemon.Inference;

/// <summary>
/// A model run by our own runtime (<see cref="InferenceSession"/>). The session is planned at load time for a
/// batch of one, so each <see cref="Run"/> copies the window into the planned input, executes the plan and
/// copies the scores (and the embedding, exposed as an extra output) out: no managed allocation.
/// </summary>
internal sealed class SessionInferenceEngine : IInferenceEngine
{
    private readonly InferenceSession _session;
    private readonly Tensor[] _feed;
    private readonly int _embeddingOutput;

    public SessionInferenceEngine(InferenceSession session, ModelDescriptor model, int[] inputShape, int embeddingOutput)
    {
        _session = session;
        Model = model;
        _feed = [Tensor.Allocate(DataType.Float, inputShape)];
        _embeddingOutput = embeddingOutput;
    }

    public ModelDescriptor Model { get; }

    public InferenceSession Session => _session;

    public void Run(ReadOnlySpan<float> input, Span<float> scores, Span<float> embedding)
    {
        var model = Model;
        if (input.Length != model.InputLength) ThrowLength("input", input.Length, model.InputLength);
        if (scores.Length != model.ClassCount) ThrowLength("scores", scores.Length, model.ClassCount);
        if (embedding.Length != model.EmbeddingLength) ThrowLength("embedding", embedding.Length, model.EmbeddingLength);
        input.CopyTo(_feed[0].Span<float>());
        IReadOnlyList<Tensor> outputs;
        try
        {
            outputs = _session.Run(_feed);
        }
        catch (InferenceException e)
        {
            throw new InvalidOperationException($"{model.Name} {model.Version}: {e.Message}", e);
        }
        outputs[0].Span<float>().CopyTo(scores);
        if (_embeddingOutput >= 0) outputs[_embeddingOutput].Span<float>().CopyTo(embedding);
    }

    private static void ThrowLength(string what, int got, int expected) =>
        throw new ArgumentException($"{what} buffer has {got} values, the model needs {expected}");

    public void Dispose()
    {
    }
}
