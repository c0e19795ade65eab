using EdgeAgent.Checks;
using Xunit;

namespace EdgeAgent.Runtime.Tests;

/// <summary>Runs the shared runtime checks (the same ones the ARM64 harness runs under qemu).</summary>
public class RuntimeChecks
{
    public static TheoryRows Cases => CheckRegistry.Rows("runtime");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Run(string id) => CheckRegistry.Get(id).Body();
}
