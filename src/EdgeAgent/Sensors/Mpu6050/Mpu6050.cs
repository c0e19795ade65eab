using System.Buffers.Binary;
using System.Device.I2c;

namespace EdgeAgent.Daemon.Sensors.Mpu6050;

/// <summary>
/// InvenSense MPU-6050 accelerometer and gyroscope over I2C (address 0x68, or 0x69 with AD0 high).
/// Wakes the chip on the gyro PLL clock, sets the digital low-pass filter and the sample rate, and reads
/// all axes in one 14-byte burst so that the axes of one sample belong together.
/// </summary>
public sealed class Mpu6050 : IDisposable
{
    private readonly I2cDevice _device;
    private readonly double _lsbPerG;
    private readonly double _lsbPerDps;

    public Mpu6050(I2cDevice device, AccelerometerRange accelerometer = AccelerometerRange.PlusMinus4G,
        GyroscopeRange gyroscope = GyroscopeRange.PlusMinus500Dps, double sampleRateHz = 1000)
    {
        _device = device;
        byte id = _device.ReadRegister8(Mpu6050Registers.WhoAmI);
        if ((id & 0x7E) != (Mpu6050Registers.WhoAmIValue & 0x7E))
            throw new SensorException($"no MPU-6050 at 0x{device.ConnectionSettings.DeviceAddress:x2}: WHO_AM_I is 0x{id:x2}, expected 0x68");
        _device.WriteRegister8(Mpu6050Registers.PowerManagement1, Mpu6050Registers.ClockPllGyroX); // clears SLEEP
        _device.WriteRegister8(Mpu6050Registers.Config, Mpu6050Registers.Dlpf184Hz);
        int divider = (int)Math.Round(Mpu6050Registers.GyroOutputRateWithDlpfHz / sampleRateHz) - 1;
        _device.WriteRegister8(Mpu6050Registers.SampleRateDivider, (byte)Math.Clamp(divider, 0, 255));
        _device.WriteRegister8(Mpu6050Registers.AccelConfig, (byte)((int)accelerometer << Mpu6050Registers.FullScaleShift));
        _device.WriteRegister8(Mpu6050Registers.GyroConfig, (byte)((int)gyroscope << Mpu6050Registers.FullScaleShift));
        _lsbPerG = Mpu6050Registers.AccelLsbPerG[(int)accelerometer];
        _lsbPerDps = Mpu6050Registers.GyroLsbPerDps[(int)gyroscope];
        SampleRateHz = Mpu6050Registers.GyroOutputRateWithDlpfHz / (1.0 + Math.Clamp(divider, 0, 255));
    }

    /// <summary>The output data rate actually configured (1 kHz / (1 + SMPLRT_DIV)).</summary>
    public double SampleRateHz { get; }

    /// <summary>Reads acceleration (g, x/y/z), angular rate (°/s, x/y/z) and die temperature (°C) of one sample.</summary>
    public void Read(Span<float> accelerationG, Span<float> angularRateDps, out float temperatureCelsius)
    {
        Span<byte> raw = stackalloc byte[Mpu6050Registers.BurstLength];
        _device.WriteRead([Mpu6050Registers.AccelXOutHigh], raw);
        for (int axis = 0; axis < 3; axis++)
        {
            accelerationG[axis] = (float)(BinaryPrimitives.ReadInt16BigEndian(raw[(2 * axis)..]) / _lsbPerG);
            angularRateDps[axis] = (float)(BinaryPrimitives.ReadInt16BigEndian(raw[(8 + 2 * axis)..]) / _lsbPerDps);
        }
        temperatureCelsius = (float)(BinaryPrimitives.ReadInt16BigEndian(raw[6..]) / Mpu6050Registers.TemperatureLsbPerCelsius
                                     + Mpu6050Registers.TemperatureOffsetCelsius);
    }

    /// <summary>Acceleration only (g), still read as one coherent burst of the three axes.</summary>
    public void ReadAccelerationG(Span<float> xyz)
    {
        Span<byte> raw = stackalloc byte[6];
        _device.WriteRead([Mpu6050Registers.AccelXOutHigh], raw);
        for (int axis = 0; axis < 3; axis++)
            xyz[axis] = (float)(BinaryPrimitives.ReadInt16BigEndian(raw[(2 * axis)..]) / _lsbPerG);
    }

    public void Dispose()
    {
        try
        {
            _device.WriteRegister8(Mpu6050Registers.PowerManagement1, Mpu6050Registers.Sleep);
        }
        catch (IOException)
        {
            // The bus may already be gone at shutdown; sleeping the chip is a courtesy.
        }
        _device.Dispose();
    }
}
