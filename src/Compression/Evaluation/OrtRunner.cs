using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using Ort = Microsoft.ML.OnnxRuntime;

namespace EdgeAgent.Compression.Evaluation;

/// <summary>ONNX Runtime on the CPU, single-threaded, with its default graph optimisations (QDQ fusion included).</summary>
public sealed class OrtRunner : ModelRunner
{
    private readonly Ort.InferenceSession _session;
    private readonly string[] _inputs;
    private readonly string[] _names;
    private readonly Ort.RunOptions _runOptions = new();

    public OrtRunner(OnnxModel model)
    {
        using var options = new Ort.SessionOptions { IntraOpNumThreads = 1, InterOpNumThreads = 1 };
        _session = new Ort.InferenceSession(OnnxWriter.ToBytes(model), options);
        _inputs = model.Graph.RuntimeInputs.Select(i => i.Name).ToArray();
        _names = model.Graph.Outputs.Select(o => o.Name).ToArray();
    }

    public override string Engine => "onnxruntime";
    public override IReadOnlyList<string> OutputNames => _names;

    public override float[][] Run(Tensor[] inputs)
    {
        var values = new Ort.OrtValue[inputs.Length];
        try
        {
            for (int k = 0; k < inputs.Length; k++)
                values[k] = Ort.OrtValue.CreateTensorValueFromMemory(inputs[k].ToArray<float>(), inputs[k].Shape.ToArray().Select(d => (long)d).ToArray());
            using var outputs = _session.Run(_runOptions, _inputs, values, _names);
            var result = new float[outputs.Count][];
            for (int k = 0; k < outputs.Count; k++) result[k] = outputs[k].GetTensorDataAsSpan<float>().ToArray();
            return result;
        }
        finally
        {
            foreach (var v in values) v?.Dispose();
        }
    }

    public override void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}
