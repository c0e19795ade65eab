using EdgeAgent.Checks;
using Xunit;

namespace EdgeAgent.Runtime.Tests.Training;

/// <summary>Runs the shared training checks (the same ones the ARM64 harness runs under qemu).</summary>
public class TrainingChecks
{
    public static TheoryRows Cases => CheckRegistry.Rows("training");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Run(string id) => CheckRegistry.Get(id).Body();
}
