using EdgeAgent.Daemon.Sensors;
using EdgeAgent.Daemon.Sensors.Bme280;
using EdgeAgent.Tests.Sensors.Emulators;
using Xunit;

namespace EdgeAgent.Tests.Sensors;

public class Bme280Tests
{
    // The worked example of Bosch's BMP280 datasheet (BST-BMP280-DS001, section 3.12), whose temperature and
    // pressure compensation the BME280 shares: these trimming values and raw readings give 25.08 °C, 100653.27 Pa.
    private static Bme280Emulator DatasheetExample()
    {
        var chip = new Bme280Emulator();
        chip.SetCalibration(27504, 26435, -1000, 36477, -10685, 3024, 2855, 140, -7, 15500, -14600, 6000,
            h1: 75, h2: 362, h3: 0, h4: 313, h5: 50, h6: 30);
        chip.SetRaw(adcP: 415148, adcT: 519888, adcH: 30000);
        return chip;
    }

    [Fact]
    public void CompensatesTemperatureAndPressureLikeTheDatasheetExample()
    {
        using var bme = new Bme280(DatasheetExample());
        bme.Read(out double t, out double p, out _);
        Assert.Equal(25.08, t, 2);
        Assert.Equal(100653.27, p, 0.01);
    }

    [Fact]
    public void HumidityAgreesWithTheDatasheetsIntegerFormula()
    {
        var chip = DatasheetExample();
        using var bme = new Bme280(chip);
        bme.Read(out _, out _, out double h);
        // bme280_compensate_H_int32 (datasheet 4.2.3), written out independently: %RH in Q22.10.
        var c = bme.Calibration;
        int tFine = T_fineInt(519888, c);
        int v = tFine - 76800;
        v = ((((30000 << 14) - (c.H4 << 20) - (c.H5 * v)) + 16384) >> 15) *
            (((((((v * c.H6) >> 10) * (((v * c.H3) >> 11) + 32768)) >> 10) + 2097152) * c.H2 + 8192) >> 14);
        v -= ((((v >> 15) * (v >> 15)) >> 7) * c.H1) >> 4;
        v = Math.Clamp(v, 0, 419430400);
        double expected = (v >> 12) / 1024.0;
        Assert.InRange(h, 1, 99);
        Assert.Equal(expected, h, 0.05);
    }

    private static int T_fineInt(int adcT, Bme280Calibration c)
    {
        int var1 = (((adcT >> 3) - (c.T1 << 1)) * c.T2) >> 11;
        int var2 = (((((adcT >> 4) - c.T1) * ((adcT >> 4) - c.T1)) >> 12) * c.T3) >> 14;
        return var1 + var2;
    }

    [Fact]
    public void DecodesTheSplitH4AndH5Fields()
    {
        var chip = new Bme280Emulator();
        chip.SetCalibration(1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, h4: -1234, h5: 987, h6: -5);
        using var bme = new Bme280(chip);
        Assert.Equal(-1234, bme.Calibration.H4);
        Assert.Equal(987, bme.Calibration.H5);
        Assert.Equal(-5, bme.Calibration.H6);
    }

    [Fact]
    public void ConfiguresNormalModeWithHumidityLatchedByCtrlMeas()
    {
        var chip = DatasheetExample();
        using (var bme = new Bme280(chip))
        {
            Assert.Equal(1, chip.Resets);
            Assert.Equal(Bme280Registers.ModeNormal, chip.Mode);
            Assert.Equal(Bme280Registers.Oversampling1, chip.EffectiveHumidityOversampling);
            Assert.Equal(0b001_001_11, chip.Register(Bme280Registers.ControlMeasurement));
        }
        Assert.Equal(Bme280Registers.ModeSleep, chip.Mode); // dispose puts it to sleep
    }

    [Fact]
    public void RefusesAnotherChip()
    {
        var chip = new Bme280Emulator();
        chip.Poke(Bme280Registers.ChipId, 0x58);
        var e = Assert.Throws<SensorException>(() => new Bme280(chip));
        Assert.Contains("BMP280", e.Message);
    }

    [Fact]
    public void SourceReportsCelsiusHectopascalsAndPercent()
    {
        using var source = new Bme280Source("env", new Bme280(DatasheetExample()));
        Span<float> values = stackalloc float[3];
        Assert.True(source.Read(0, values));
        Assert.Equal(["temperature_c", "pressure_hpa", "humidity_percent"], source.Channels);
        Assert.Equal(25.08f, values[0], 2);
        Assert.Equal(1006.53f, values[1], 2);
    }
}
