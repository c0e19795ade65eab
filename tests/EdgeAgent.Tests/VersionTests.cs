using Xunit;

namespace EdgeAgent.Tests;

public class VersionTests
{
    [Fact]
    public void VersionPrintsNameVersionAndKernelPath()
    {
        var output = new StringWriter();
        var previous = Console.Out;
        Console.SetOut(output);
        try
        {
            Assert.Equal(0, Daemon.Program.Main(["--version"]));
        }
        finally
        {
            Console.SetOut(previous);
        }
        Assert.Matches(@"^edgeagent \d+\.\d+\.\d+ \(.+, kernels: [a-z0-9-]+\)", output.ToString());
    }

    [Fact]
    public void UnknownArgumentsAreAUsageError() => Assert.Equal(2, Daemon.Program.Main(["--no-such-option"]));
}
