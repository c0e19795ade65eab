using EdgeAgent.Daemon.Sensors;
using EdgeAgent.Daemon.Sensors.Ads1115;
using EdgeAgent.Tests.Sensors.Emulators;
using Xunit;

namespace EdgeAgent.Tests.Sensors;

public class Ads1115Tests
{
    [Theory]
    [InlineData(4.096, 0, 1.2345)]
    [InlineData(2.048, 1, -0.75)]
    [InlineData(0.256, 3, 0.1)]
    public void ReadsTheSelectedInputInVolts(double fullScale, int input, double volts)
    {
        var chip = new Ads1115Emulator();
        chip.SetInputVolts(input, volts);
        using var adc = new Ads1115(chip, fullScale, sampleRateHz: 100, input);
        Assert.True(chip.Continuous);
        Assert.Equal(volts, adc.ReadVolts(), fullScale / 32768 * 1.01);
    }

    [Fact]
    public void ChoosesTheSlowestDataRateThatMeetsTheSamplingRate()
    {
        var chip = new Ads1115Emulator();
        using var adc = new Ads1115(chip, 4.096, sampleRateHz: 300);
        Assert.Equal(475, chip.DataRateSps);
        Assert.Equal(475, adc.DataRateSps);
    }

    [Fact]
    public void ClipsAtFullScale()
    {
        var chip = new Ads1115Emulator();
        chip.SetInputVolts(0, 5.0);
        using var adc = new Ads1115(chip, 2.048, 100);
        Assert.Equal(2.048 * 32767 / 32768, adc.ReadVolts(), 1e-9);
    }

    [Fact]
    public void RejectsAnUnknownRangeAndAChipThatDoesNotKeepItsConfig()
    {
        Assert.Throws<SensorException>(() => new Ads1115(new Ads1115Emulator(), 3.3, 100));
        Assert.Contains("config reads back", Assert.Throws<SensorException>(() => new Ads1115(new Ina219Emulator(0x48), 4.096, 100)).Message);
    }
}
