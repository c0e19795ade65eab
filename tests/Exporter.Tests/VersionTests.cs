using Xunit;

namespace EdgeAgent.Exporter.Tests;

[Collection("console")]
public class VersionTests
{
    [Fact]
    public void VersionPrintsNameAndVersion()
    {
        var output = new StringWriter();
        var previous = Console.Out;
        Console.SetOut(output);
        try
        {
            Assert.Equal(0, Program.Main(["--version"]));
        }
        finally
        {
            Console.SetOut(previous);
        }
        Assert.Matches(@"^exporter \d+\.\d+\.\d+", output.ToString());
    }
}
