using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Tests.Support;
using Xunit;

namespace EdgeAgent.Tests.Configuration;

public class OptionsBinderTests
{
    private static IReadOnlyList<ConfigError> Check(string json, params string[] overrides)
    {
        using var dir = new TempDirectory();
        var configuration = ConfigLoader.Load(dir.Write("edgeagent.json", json), overrides, includeEnvironment: false);
        OptionsBinder.Bind(configuration, out var errors);
        return errors;
    }

    private static EdgeAgentOptions Bind(string json, params string[] overrides)
    {
        using var dir = new TempDirectory();
        return OptionsBinder.BindOrThrow(ConfigLoader.Load(dir.Write("edgeagent.json", json), overrides, includeEnvironment: false));
    }

    [Fact]
    public void EmptyFileGivesDefaultsWithTheSimulatedSensor()
    {
        var o = Bind("{}");
        Assert.True(o.UsesSimulatedDefault);
        Assert.Equal("simulated", Assert.Single(o.Sensors).Type);
        Assert.Equal(Path.Combine("/var/lib/edgeagent", "models"), o.Model.StoreDirectory);
        Assert.Equal("", o.Mqtt.Broker);
    }

    [Fact]
    public void UnknownKeyIsReportedWithItsPathAndASuggestion()
    {
        var error = Assert.Single(Check("""{"pipeline": {"hopp": 32}}"""));
        Assert.Equal("pipeline:hopp", error.Key);
        Assert.Contains("unknown key", error.Reason);
        Assert.Contains("pipeline:hop", error.Reason);
    }

    [Fact]
    public void UnknownTopLevelSectionIsReported()
    {
        var errors = Check("""{"sensor": [{"name": "a", "type": "simulated"}]}""");
        Assert.Equal(["sensor:0:name", "sensor:0:type"], errors.Select(e => e.Key).Order());
        Assert.All(errors, e => Assert.Contains("unknown key", e.Reason));
    }

    [Fact]
    public void PinOutOfRangeNamesTheKey()
    {
        var errors = Check("""{"gpio": {"outputs": [{"pin": 40, "class": "imbalance"}]}}""");
        var error = Assert.Single(errors);
        Assert.Equal("gpio:outputs:0:pin", error.Key);
        Assert.Contains("out of range [0, 27]", error.Reason);
    }

    [Fact]
    public void PinUsedTwiceIsRefused()
    {
        var errors = Check("""{"gpio": {"teach": {"pin": 17, "label": "fault"}, "outputs": [{"pin": 17, "class": "imbalance"}]}}""");
        Assert.Contains(errors, e => e.Key == "gpio:outputs:0:pin" && e.Reason.Contains("gpio:teach:pin"));
    }

    [Fact]
    public void RateAboveTheChipsMaximumCannotBeMet()
    {
        var errors = Check("""{"sensors": [{"name": "v", "type": "mpu6050", "rateHz": 2000}], "gpio": {"i2cClockHz": 400000}}""");
        var error = Assert.Single(errors);
        Assert.Equal("sensors:0:rateHz", error.Key);
        Assert.Contains("cannot be met", error.Reason);
        Assert.Contains("1000 Hz", error.Reason);
    }

    [Fact]
    public void RatesBeyondTheI2cBusBudgetAreRefused()
    {
        // 1 kHz x 17 bytes x 9 bits = 153 kbit/s: fine on a 400 kHz bus, too much for the default 100 kHz.
        string json = """{"sensors": [{"name": "v", "type": "mpu6050", "rateHz": 1000}]}""";
        var error = Assert.Single(Check(json));
        Assert.Equal("sensors:0:rateHz", error.Key);
        Assert.Contains("I2C bus 1", error.Reason);
        Assert.Empty(Check(json, "--gpio:i2cClockHz=400000"));
    }

    [Fact]
    public void CommandLineOverridesTheFile()
    {
        var o = Bind("""{"pipeline": {"hop": 16}}""", "--pipeline:hop=32");
        Assert.Equal(32, o.Pipeline.Hop);
    }

    [Fact]
    public void EnvironmentOverridesTheFile()
    {
        using var dir = new TempDirectory();
        string path = dir.Write("edgeagent.json", """{"reservoir": {"capacity": 100}}""");
        Environment.SetEnvironmentVariable("EDGEAGENT__RESERVOIR__CAPACITY", "250");
        try
        {
            var o = OptionsBinder.BindOrThrow(ConfigLoader.Load(path, []));
            Assert.Equal(250, o.Reservoir.Capacity);
        }
        finally
        {
            Environment.SetEnvironmentVariable("EDGEAGENT__RESERVOIR__CAPACITY", null);
        }
    }

    [Fact]
    public void MalformedValuesNameTheKeyAndTheValue()
    {
        var errors = Check("""{"reservoir": {"capacity": "lots", "heldOutFraction": 0.9}, "mqtt": {"broker": "http://x"}}""");
        Assert.Contains(errors, e => e.Key == "reservoir:capacity" && e.Reason.Contains("'lots' is not an integer"));
        Assert.Contains(errors, e => e.Key == "reservoir:heldOutFraction" && e.Reason.Contains("out of range"));
        Assert.Contains(errors, e => e.Key == "mqtt:broker");
        Assert.Equal(3, errors.Count);
    }

    [Fact]
    public void HysteresisBandMustNotBeInverted()
    {
        var errors = Check("""{"gpio": {"outputs": [{"pin": 5, "class": "imbalance", "onScore": 0.4, "offScore": 0.6}]}}""");
        Assert.Equal("gpio:outputs:0:offScore", Assert.Single(errors).Key);
    }

    [Fact]
    public void SensorTypeSpecificRequirementsAreChecked()
    {
        var errors = Check("""{"sensors": [{"name": "a", "type": "csv"}, {"name": "a", "type": "mqtt", "topic": "x/y"}]}""");
        Assert.Contains(errors, e => e.Key == "sensors:0:path");
        Assert.Contains(errors, e => e.Key == "sensors:1:channels");
        Assert.Contains(errors, e => e.Key == "sensors:1:name" && e.Reason.Contains("earlier sensor"));
    }

    [Fact]
    public void InvalidJsonIsAConfigError()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Load(dir.Write("edgeagent.json", "{ nope"), [], includeEnvironment: false));
        Assert.Contains("not valid JSON", e.Message);
    }

    [Fact]
    public void TheAnnotatedExampleInDeployIsValid()
    {
        string example = Path.Combine(RepoRoot(), "deploy", "edgeagent.example.json");
        var configuration = ConfigLoader.Load(example, [], includeEnvironment: false);
        OptionsBinder.Bind(configuration, out var errors);
        Assert.Empty(errors);
    }

    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "EdgeAgent.slnx"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("repository root (EdgeAgent.slnx) not found above " + AppContext.BaseDirectory);
    }
}
