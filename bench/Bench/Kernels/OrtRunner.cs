using Microsoft.ML.OnnxRuntime;

namespace EdgeAgent.Bench.Kernels;

/// <summary>
/// One ONNX Runtime session over a one-node model, with its inputs and output bound once to pinned arrays
/// so a run measures the operator, not marshalling.
/// </summary>
public sealed class OrtRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly OrtValue[] _inputs;
    private readonly string[] _outputNames;
    private readonly OrtValue[] _outputs;

    /// <param name="profilePrefix">When set, ORT writes its per-node profile to a JSON file with this prefix (see <see cref="EndProfiling"/>).</param>
    public OrtRunner(byte[] model, int threads, (string Name, OrtValue Value)[] inputs, (string Name, OrtValue Value) output, string? profilePrefix = null)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        if (profilePrefix is not null)
        {
            options.EnableProfiling = true;
            options.ProfileOutputPathPrefix = profilePrefix;
        }
        _session = new InferenceSession(model, options);
        _inputNames = inputs.Select(i => i.Name).ToArray();
        _inputs = inputs.Select(i => i.Value).ToArray();
        _outputNames = [output.Name];
        _outputs = [output.Value];
    }

    public static OrtValue Tensor<T>(T[] data, params long[] shape) where T : unmanaged =>
        OrtValue.CreateTensorValueFromMemory(data, shape);

    public void Run() => _session.Run(_runOptions, _inputNames, _inputs, _outputNames, _outputs);

    /// <summary>Stops ORT's profiler and returns the path of its JSON trace.</summary>
    public string EndProfiling() => _session.EndProfiling();

    public void Dispose()
    {
        foreach (var v in _inputs) v.Dispose();
        foreach (var v in _outputs) v.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
    }
}
