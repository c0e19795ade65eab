using EdgeAgent.Compression.Data;
using EdgeAgent.Compression.Evaluation;
using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Compression.Quantization;

/// <summary>
/// Runs a float model on samples with chosen intermediate tensors exposed as extra outputs, and hands
/// their values to a callback. The model is copied, so the caller's graph is untouched.
/// </summary>
public sealed class ActivationCollector
{
    private readonly InferenceSession _session;
    private readonly string[] _names;
    private readonly int _firstExtra;

    public ActivationCollector(OnnxModel model, IReadOnlyCollection<string> tensors)
    {
        _firstExtra = model.Graph.Outputs.Count;
        var copy = ModelRunner.WithExtraOutputs(model, tensors);
        _names = copy.Graph.Outputs.Select(o => o.Name).ToArray();
        // No graph rewrites: fusions could remove the very tensors being observed.
        _session = InferenceSession.FromModel(copy, new SessionOptions { Optimize = false });
    }

    public IReadOnlyList<string> OutputNames => _names;

    /// <summary>Runs each sample; <paramref name="observe"/> gets every output by name (views valid only during the call).</summary>
    public void Run(SampleSet samples, Action<int, IReadOnlyDictionary<string, Tensor>> observe)
    {
        for (int s = 0; s < samples.Count; s++)
        {
            IReadOnlyList<Tensor> outputs;
            try { outputs = _session.Run(samples.Samples[s]); }
            catch (ArgumentException e) { throw new DataFormatException($"{samples.Source}: sample {s}: {e.Message}", e); }
            var map = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            for (int k = 0; k < _names.Length; k++) map[_names[k]] = outputs[k];
            observe(s, map);
        }
    }
}
