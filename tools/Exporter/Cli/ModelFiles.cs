using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;

namespace EdgeAgent.Exporter.Cli;

internal static class ModelFiles
{
    /// <summary>Loads an ONNX model; a file the runtime cannot parse is a failure naming the file.</summary>
    public static OnnxModel Load(string path)
    {
        try { return OnnxReader.Load(path); }
        catch (ModelLoadException e) { throw new CommandFailedException($"{path}: {e.Message}", e); }
    }
}
