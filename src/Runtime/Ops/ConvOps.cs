namespace EdgeAgent.Runtime.Ops;

internal static class ConvOps
{
    public static void Register(Dictionary<string, OpCompiler> ops) { _ = ops; }
}
