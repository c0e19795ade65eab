namespace EdgeAgent.Runtime.Ops;

internal static class ReduceOps
{
    public static void Register(Dictionary<string, OpCompiler> ops) { _ = ops; }
}
