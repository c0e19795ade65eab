namespace EdgeAgent.Runtime.Ops;

internal static class PoolOps
{
    public static void Register(Dictionary<string, OpCompiler> ops) { _ = ops; }
}
