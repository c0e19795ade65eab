namespace EdgeAgent.Runtime.Ops;

internal static class ResizeOp
{
    public static void Register(Dictionary<string, OpCompiler> ops) { _ = ops; }
}
