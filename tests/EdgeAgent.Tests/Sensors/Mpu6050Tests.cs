using EdgeAgent.Daemon.Sensors;
using EdgeAgent.Daemon.Sensors.Mpu6050;
using EdgeAgent.Tests.Sensors.Emulators;
using Xunit;

namespace EdgeAgent.Tests.Sensors;

public class Mpu6050Tests
{
    [Fact]
    public void WakesTheChipAndConfiguresRangesAndRate()
    {
        var chip = new Mpu6050Emulator();
        using var mpu = new Mpu6050(chip, AccelerometerRange.PlusMinus8G, GyroscopeRange.PlusMinus1000Dps, sampleRateHz: 500);
        Assert.False(chip.Asleep);
        Assert.Equal(8, chip.AccelRangeG);
        Assert.Equal(1000, chip.GyroRangeDps);
        Assert.Equal(500, chip.SampleRateHz);
        Assert.Equal(500, mpu.SampleRateHz);
    }

    [Theory]
    [InlineData(AccelerometerRange.PlusMinus2G)]
    [InlineData(AccelerometerRange.PlusMinus4G)]
    [InlineData(AccelerometerRange.PlusMinus16G)]
    public void ReadsAccelerationGyroAndTemperatureInUnits(AccelerometerRange range)
    {
        var chip = new Mpu6050Emulator();
        using var mpu = new Mpu6050(chip, range, GyroscopeRange.PlusMinus500Dps);
        chip.SetMotion(0.5, -1.25, 1.0, 100, -20.5, 3, 31.2);
        Span<float> a = stackalloc float[3];
        Span<float> g = stackalloc float[3];
        mpu.Read(a, g, out float t);
        float tolerance = 2f * (2 << (int)range) / 32768f;
        Assert.Equal(0.5f, a[0], tolerance);
        Assert.Equal(-1.25f, a[1], tolerance);
        Assert.Equal(1.0f, a[2], tolerance);
        Assert.Equal(100f, g[0], 0.05f);
        Assert.Equal(-20.5f, g[1], 0.05f);
        Assert.Equal(31.2f, t, 0.01f);
    }

    [Fact]
    public void WrongWhoAmIIsRefused()
    {
        var chip = new Mpu6050Emulator(0x69);
        chip.Write([Mpu6050Registers.WhoAmI, 0x12]); // read-only on the chip: ignored, still 0x68
        using (new Mpu6050(chip)) { }
        var notAnMpu = new Bme280Emulator(0x68);
        Assert.Contains("WHO_AM_I", Assert.Throws<SensorException>(() => new Mpu6050(notAnMpu)).Message);
    }

    [Fact]
    public void SourceGivesThreeAccelerationChannelsAndSleepsTheChipOnDispose()
    {
        var chip = new Mpu6050Emulator();
        var source = new Mpu6050Source("v", new Mpu6050(chip), 1000);
        chip.SetMotion(0.1, 0.2, 0.98, 0, 0, 0, 25);
        Span<float> a = stackalloc float[3];
        Assert.True(source.Read(0, a));
        Assert.Equal(0.98f, a[2], 0.001f);
        source.Dispose();
        Assert.True(chip.Asleep);
    }
}
