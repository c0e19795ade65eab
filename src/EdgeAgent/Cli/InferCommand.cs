namespace EdgeAgent.Daemon.Cli;

/// <summary>
/// <c>edgeagent infer</c>: runs a model file once on given inputs (owned by the runtime work, issue 4).
/// This is the hook the command-line dispatcher calls; the runtime's implementation replaces the body.
/// </summary>
internal static class InferCommand
{
    public static int Run(IReadOnlyList<string> args)
    {
        Console.Error.WriteLine("edgeagent infer: this build has no model runtime yet (src/Runtime's InferenceSession); usage: edgeagent infer --model M.onnx --input NAME=FILE...");
        return 69; // EX_UNAVAILABLE
    }
}
