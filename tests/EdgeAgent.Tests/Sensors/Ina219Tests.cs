using EdgeAgent.Daemon.Sensors;
using EdgeAgent.Daemon.Sensors.Ina219;
using EdgeAgent.Tests.Sensors.Emulators;
using Xunit;

namespace EdgeAgent.Tests.Sensors;

public class Ina219Tests
{
    [Fact]
    public void CalibratesLikeTheDatasheetExample()
    {
        // Datasheet 8.5.1 style: 0.1 Ω shunt, 3.2 A expected → current LSB 97.66 µA, calibration trunc(0.04096/(LSB × R)) = 4194 → 4194.
        var chip = new Ina219Emulator();
        using var ina = new Ina219(chip, shuntOhms: 0.1, maxCurrentAmperes: 3.2);
        Assert.Equal(4194, ina.CalibrationValue);
        Assert.Equal(4194, chip.Register(Ina219Registers.Calibration));
        Assert.Equal(Ina219Registers.Configuration32V320mV12Bit, chip.Register(Ina219Registers.Configuration));
    }

    [Theory]
    [InlineData(0.1, 3.2, 0.05, 5.0)]     // 0.5 A at 5 V
    [InlineData(0.1, 1.0, -0.02, 12.0)]   // -0.2 A (reverse) at 12 V
    [InlineData(0.01, 10.0, 0.08, 24.0)]  // 8 A through a 10 mΩ shunt
    public void ReadsVoltageCurrentAndPower(double shuntOhms, double maxAmperes, double shuntVolts, double busVolts)
    {
        var chip = new Ina219Emulator();
        chip.SetInputs(shuntVolts, busVolts);
        using var ina = new Ina219(chip, shuntOhms, maxAmperes);
        double amperes = shuntVolts / shuntOhms;
        Assert.Equal(shuntVolts, ina.ReadShuntVoltageVolts(), 1e-5);
        Assert.Equal(busVolts, ina.ReadBusVoltageVolts(), 0.004);
        Assert.Equal(amperes, ina.ReadCurrentAmperes(), Math.Abs(amperes) * 0.002 + ina.CurrentLsbAmperes);
        Assert.Equal(Math.Abs(amperes) * busVolts, ina.ReadPowerWatts(), Math.Abs(amperes * busVolts) * 0.003 + ina.PowerLsbWatts);
    }

    [Fact]
    public void ACurrentRangeBeyondTheShuntsRangeIsNotCalibratable() =>
        Assert.Throws<SensorException>(() => new Ina219(new Ina219Emulator(), shuntOhms: 100, maxCurrentAmperes: 100));

    [Fact]
    public void AnotherChipIsRecognisedByItsResetValue() =>
        Assert.Contains("after reset", Assert.Throws<SensorException>(() => new Ina219(new Ads1115Emulator(0x40), 0.1, 3.2)).Message);
}
