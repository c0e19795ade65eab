using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Inference;

internal static partial class InferenceLog
{
    [LoggerMessage(100, LogLevel.Warning, "Model {Name} {Version} runs through ONNX Runtime (slower, allocates per inference) because our runtime lacks: {Operators}")]
    public static partial void FallingBack(ILogger logger, string name, string version, string operators);
}
