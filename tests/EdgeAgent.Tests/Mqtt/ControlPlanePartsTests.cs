using EdgeAgent.Daemon.Mqtt;
using Xunit;

namespace EdgeAgent.Tests.Mqtt;

public sealed class ControlPlanePartsTests
{
    [Theory]
    [InlineData("1.10", "1.9", 1)]
    [InlineData("2", "2.0.0", 0)]
    [InlineData("1.0.1", "1.0", 1)]
    [InlineData("0.9", "1", -1)]
    [InlineData("1.0-rc1", "1.0-rc2", -1)]
    public void ModelVersionsCompareNumerically(string a, string b, int expected)
    {
        Assert.Equal(expected, ModelVersion.Compare(a, b));
        Assert.Equal(-expected, ModelVersion.Compare(b, a));
    }

    [Fact]
    public void BackoffGrowsExponentiallyWithJitterWithinBounds()
    {
        var backoff = new ReconnectBackoff(TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(10), new Random(3));
        var delays = Enumerable.Range(0, 40).Select(_ => backoff.Next().TotalMilliseconds).ToList();
        Assert.All(delays, d => Assert.InRange(d, 100, 10_000));
        for (int i = 0; i < 8; i++) Assert.True(delays[i] <= 100 * Math.Pow(2, i), $"attempt {i}: {delays[i]} ms over its ceiling");
        Assert.True(delays.Skip(20).Average() > 2_000, "late attempts should mostly wait seconds, not the minimum");
        Assert.True(delays.Skip(20).Distinct().Count() > 15, "delays must be jittered, not identical");
        backoff.Reset();
        Assert.InRange(backoff.Next().TotalMilliseconds, 100, 100);
    }

    [Fact]
    public void OptionsValidationNamesTheKey()
    {
        static string Fails(Action<MqttOptions> change)
        {
            var options = new MqttOptions { DeviceId = "d1" };
            change(options);
            return Assert.Throws<MqttOptionsException>(options.Validate).Message;
        }
        Assert.StartsWith("Mqtt:Broker:", Fails(o => o.Broker = "http://x"));
        Assert.StartsWith("Mqtt:DeviceId:", Fails(o => o.DeviceId = "a/b"));
        Assert.StartsWith("Mqtt:ProtocolVersion:", Fails(o => o.ProtocolVersion = "4"));
        Assert.StartsWith("Mqtt:PasswordFile:", Fails(o => { o.Username = "u"; o.PasswordFile = "/nonexistent/pw"; }));
        Assert.StartsWith("Mqtt:FleetGroups:", Fails(o => o.FleetGroups = ["ok", "bad+"]));
        Assert.StartsWith("Mqtt:ReconnectMaxMs:", Fails(o => { o.ReconnectMinMs = 1000; o.ReconnectMaxMs = 10; }));
        Assert.StartsWith("Mqtt:Broker:", Fails(o => o.CaFile = "/etc/hostname"));
        new MqttOptions { DeviceId = "d1" }.Validate();
    }

    [Fact]
    public void IdIsFoundBeforeBrokenOrHugeJson()
    {
        Assert.Equal("a1", CommandDispatcher.TryReadId("""{"id":"a1","x":[1,2"""u8)?.GetString());
        Assert.Equal(7, CommandDispatcher.TryReadId("""{"x":{"y":[1]},"id":7}"""u8)?.GetInt32());
        Assert.Null(CommandDispatcher.TryReadId("""{"x":[1,2"""u8));
        Assert.Null(CommandDispatcher.TryReadId("""[{"id":"a"}]"""u8));
        Assert.Null(CommandDispatcher.TryReadId("""{"id":{"a":1}}"""u8));
        Assert.Null(CommandDispatcher.TryReadId([0xFF, 0x00, 0x7B]));
    }
}
