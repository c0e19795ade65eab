namespace EdgeAgent.Runtime.Ops;

internal static class QuantizedOps
{
    public static void Register(Dictionary<string, OpCompiler> ops) { _ = ops; }
}
