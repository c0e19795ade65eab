namespace EdgeAgent.Checks;

/// <summary>
/// Every shared check, registered explicitly (no reflection, so the NativeAOT harness sees the same list).
/// A suite adds itself with one line here; xunit projects run the suite's cases by name.
/// </summary>
public static class CheckRegistry
{
    private static readonly Lazy<IReadOnlyList<Check>> s_all = new(Build);

    public static IReadOnlyList<Check> All => s_all.Value;

    private static IReadOnlyList<Check> Build()
    {
        var checks = new List<Check>();
        DispatchChecks.Register(checks);
        Kernels.QGemmChecks.Register(checks);
        Kernels.ConvChecks.Register(checks);
        Kernels.ConvDirectChecks.Register(checks);
        Kernels.DepthwiseChecks.Register(checks);
        Kernels.FloatChecks.Register(checks);
        Kernels.ElementwiseChecks.Register(checks);
        Kernels.PoolingChecks.Register(checks);
        Training.TrainingGradientChecks.Register(checks);
        Training.TrainingEngineChecks.Register(checks);
        Runtime.RuntimeModelChecks.Register(checks);
        Runtime.QuantizeChecks.Register(checks);
        Training.LearnerChecks.Register(checks);
        Training.OnnxBridgeChecks.Register(checks);
        var duplicate = checks.GroupBy(c => c.ToString()).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new InvalidOperationException($"check '{duplicate.Key}' is registered twice");
        return checks;
    }

    public static IEnumerable<Check> Suite(string suite) => All.Where(c => c.Suite == suite);

    public static Check Get(string id) =>
        All.FirstOrDefault(c => c.ToString() == id) ?? throw new KeyNotFoundException($"no check '{id}'");

    /// <summary>xunit MemberData for one suite: one row per check id.</summary>
    public static TheoryRows Rows(string suite) => new(Suite(suite).Select(c => c.ToString()));
}

/// <summary>Rows of check ids in the shape xunit's MemberData expects.</summary>
public sealed class TheoryRows(IEnumerable<string> ids) : IEnumerable<object[]>
{
    public IEnumerator<object[]> GetEnumerator() => ids.Select(id => new object[] { id }).GetEnumerator();
    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}
