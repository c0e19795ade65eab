using EdgeAgent.Checks;
using Xunit;

namespace EdgeAgent.Kernels.Tests;

/// <summary>Runs the shared kernel checks (the same ones the ARM64 harness runs under qemu).</summary>
public class KernelChecks
{
    public static TheoryRows Cases => CheckRegistry.Rows("kernels");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Run(string id) => CheckRegistry.Get(id).Body();
}
