using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Compression.Evaluation;

/// <summary>
/// Runs a model on one sample and returns chosen values (graph outputs, and intermediate tensors made
/// visible as extra outputs) as float arrays. Two engines: our runtime and ONNX Runtime, so reports
/// can compare them on the same model.
/// </summary>
public abstract class ModelRunner : IDisposable
{
    public abstract string Engine { get; }
    public abstract IReadOnlyList<string> OutputNames { get; }

    /// <summary>Outputs in <see cref="OutputNames"/> order, copied out of the engine.</summary>
    public abstract float[][] Run(Tensor[] inputs);

    public virtual void Dispose() { }

    /// <summary>A copy of <paramref name="model"/> whose graph also outputs <paramref name="extra"/> (float values only).</summary>
    public static OnnxModel WithExtraOutputs(OnnxModel model, IEnumerable<string> extra)
    {
        var copy = model.Copy();
        var existing = new HashSet<string>(copy.Graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        foreach (var t in extra)
            if (existing.Add(t)) copy.Graph.Outputs.Add(new ValueInfo(t, DataType.Float, null));
        return copy;
    }
}
