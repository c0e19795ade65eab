using EdgeAgent.Runtime.Ir;
using Ort = Microsoft.ML.OnnxRuntime;

namespace EdgeAgent.Runtime;

/// <summary>ONNX Runtime's native library is missing or unusable, so fallback cannot run.</summary>
public sealed class FallbackUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Runs a whole model through ONNX Runtime, for models holding operators we do not implement. Only
/// used when the caller asks for it (daemon: runtime.fallback; CLI: --allow-fallback). Allocates per Run.
/// </summary>
public sealed class OnnxRuntimeFallback : IDisposable
{
    private readonly Ort.InferenceSession _session;

    public OnnxRuntimeFallback(string modelPath, int threads = 1)
        : this(options => new Ort.InferenceSession(modelPath, options), modelPath, threads)
    {
    }

    /// <summary>Opens a model held in memory (e.g. from a bundle); <paramref name="source"/> names it in errors.</summary>
    public OnnxRuntimeFallback(byte[] model, string source, int threads = 1)
        : this(options => new Ort.InferenceSession(model, options), source, threads)
    {
    }

    private OnnxRuntimeFallback(Func<Ort.SessionOptions, Ort.InferenceSession> open, string modelPath, int threads)
    {
        try
        {
            var options = new Ort.SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1 };
            _session = open(options);
        }
        catch (Exception e) when (e is DllNotFoundException or TypeInitializationException or EntryPointNotFoundException or BadImageFormatException)
        {
            throw new FallbackUnavailableException($"ONNX Runtime's native library could not be loaded ({e.GetType().Name}: {e.Message}); install it beside the binary (onnxruntime-fallback/)", e);
        }
        catch (Ort.OnnxRuntimeException e)
        {
            throw new ModelLoadException($"{modelPath}: ONNX Runtime refused the model: {e.Message}", e);
        }
    }

    public IReadOnlyList<string> InputNames => _session.InputNames;

    public IReadOnlyList<(string Name, Tensor Value)> Run(IReadOnlyDictionary<string, Tensor> inputs)
    {
        var names = new List<string>();
        var values = new List<Ort.OrtValue>();
        try
        {
            foreach (var (name, t) in inputs)
            {
                names.Add(name);
                values.Add(ToOrt(t));
            }
            using var options = new Ort.RunOptions();
            using var results = _session.Run(options, names, values, _session.OutputNames);
            var outputs = new List<(string, Tensor)>();
            for (int k = 0; k < results.Count; k++) outputs.Add((_session.OutputNames[k], FromOrt(results[k])));
            return outputs;
        }
        catch (Ort.OnnxRuntimeException e)
        {
            throw new InferenceException($"ONNX Runtime failed: {e.Message}", e);
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    private static Ort.OrtValue ToOrt(Tensor t)
    {
        long[] shape = t.Shape.ToArray().Select(d => (long)d).ToArray();
        return t.DataType switch
        {
            DataType.Float => Ort.OrtValue.CreateTensorValueFromMemory(t.ToArray<float>(), shape),
            DataType.Double => Ort.OrtValue.CreateTensorValueFromMemory(t.ToArray<double>(), shape),
            DataType.Int64 => Ort.OrtValue.CreateTensorValueFromMemory(t.ToArray<long>(), shape),
            DataType.Int32 => Ort.OrtValue.CreateTensorValueFromMemory(t.ToArray<int>(), shape),
            DataType.UInt8 => Ort.OrtValue.CreateTensorValueFromMemory(t.ToArray<byte>(), shape),
            DataType.Int8 => Ort.OrtValue.CreateTensorValueFromMemory(t.ToArray<sbyte>(), shape),
            DataType.Bool => Ort.OrtValue.CreateTensorValueFromMemory(t.Bytes.ToArray().Select(b => b != 0).ToArray(), shape),
            _ => throw new ArgumentException($"fallback inputs of type {t.DataType.ToName()} are not supported"),
        };
    }

    private static Tensor FromOrt(Ort.OrtValue v)
    {
        var info = v.GetTensorTypeAndShape();
        int[] shape = info.Shape.Select(d => checked((int)d)).ToArray();
        return info.ElementDataType switch
        {
            Ort.Tensors.TensorElementType.Float => Tensor.FromArray<float>(v.GetTensorDataAsSpan<float>(), shape),
            Ort.Tensors.TensorElementType.Double => Tensor.FromArray<double>(v.GetTensorDataAsSpan<double>(), shape),
            Ort.Tensors.TensorElementType.Int64 => Tensor.FromArray<long>(v.GetTensorDataAsSpan<long>(), shape),
            Ort.Tensors.TensorElementType.Int32 => Tensor.FromArray<int>(v.GetTensorDataAsSpan<int>(), shape),
            Ort.Tensors.TensorElementType.UInt8 => Tensor.FromArray<byte>(v.GetTensorDataAsSpan<byte>(), shape),
            Ort.Tensors.TensorElementType.Int8 => Tensor.FromArray<sbyte>(v.GetTensorDataAsSpan<sbyte>(), shape),
            Ort.Tensors.TensorElementType.Bool => Tensor.FromArray<bool>(v.GetTensorDataAsSpan<bool>(), shape),
            var t => throw new InferenceException($"ONNX Runtime output of type {t} is not supported", new NotSupportedException()),
        };
    }

    public void Dispose() => _session.Dispose();
}
