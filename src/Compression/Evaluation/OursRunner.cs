using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Compression.Evaluation;

/// <summary>Our runtime (<see cref="InferenceSession"/>).</summary>
public sealed class OursRunner : ModelRunner
{
    private readonly InferenceSession _session;
    private readonly string[] _names;

    public OursRunner(OnnxModel model, bool optimize = true)
    {
        // The session rewrites the graph it is given (QDQ fusion); callers keep using theirs (e.g. with ONNX Runtime).
        _session = InferenceSession.FromModel(model.Copy(validate: false), new SessionOptions { Optimize = optimize });
        _names = _session.Outputs.Select(o => o.Name).ToArray();
    }

    public override string Engine => "edgeagent";
    public override IReadOnlyList<string> OutputNames => _names;

    public override float[][] Run(Tensor[] inputs)
    {
        var outputs = _session.Run(inputs);
        var result = new float[outputs.Count][];
        for (int k = 0; k < outputs.Count; k++)
        {
            if (outputs[k].DataType != DataType.Float) throw new InvalidOperationException($"output '{_names[k]}' is {outputs[k].DataType.ToName()}, not float32");
            result[k] = outputs[k].ToArray<float>();
        }
        return result;
    }

    /// <summary>Whether our runtime implements every operator of <paramref name="model"/>.</summary>
    public static bool Supports(OnnxModel model) => Runtime.Ops.OperatorRegistry.Unsupported(model.Graph).Count == 0;
}
