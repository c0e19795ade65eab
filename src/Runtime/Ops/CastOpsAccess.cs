namespace EdgeAgent.Runtime.Ops;

/// <summary>Element reads that understand every stored float format (bfloat16 included), for tools and tests.</summary>
public static class CastOpsAccess
{
    public static double GetDouble(Tensor t, int index) => CastOps.GetDouble(t, index);
}
