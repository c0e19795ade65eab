using System.Device.I2c;

namespace EdgeAgent.Daemon.Sensors.Bme280;

/// <summary>
/// Bosch BME280 temperature, pressure and humidity sensor over I2C (0x76, or 0x77 with SDO high). Runs in
/// normal mode with x1 oversampling and 0.5 ms standby (a new measurement every ~9 ms) and reads the eight
/// data registers in one burst, so the three values come from the same measurement.
/// </summary>
public sealed class Bme280 : IDisposable
{
    private readonly I2cDevice _device;

    public Bme280(I2cDevice device)
    {
        _device = device;
        byte id = _device.ReadRegister8(Bme280Registers.ChipId);
        if (id != Bme280Registers.ChipIdValue)
            throw new SensorException($"no BME280 at 0x{device.ConnectionSettings.DeviceAddress:x2}: chip id is 0x{id:x2}, expected 0x60" +
                                      (id is 0x56 or 0x57 or 0x58 ? " (a BMP280 has no humidity sensor)" : ""));
        _device.WriteRegister8(Bme280Registers.Reset, Bme280Registers.ResetCommand);
        // After reset the chip copies its NVM; im_update is set while that runs (start-up time 2 ms).
        for (int i = 0; i < 50 && (_device.ReadRegister8(Bme280Registers.Status) & Bme280Registers.StatusImUpdate) != 0; i++) Thread.Sleep(1);
        Span<byte> block1 = stackalloc byte[Bme280Registers.CalibrationBlock1Length];
        Span<byte> block2 = stackalloc byte[Bme280Registers.CalibrationBlock2Length];
        _device.WriteRead([Bme280Registers.CalibrationBlock1], block1);
        _device.WriteRead([Bme280Registers.CalibrationBlock2], block2);
        Calibration = Bme280Calibration.Parse(block1, block2);
        _device.WriteRegister8(Bme280Registers.ControlHumidity, Bme280Registers.Oversampling1);
        _device.WriteRegister8(Bme280Registers.Config, Bme280Registers.StandbyHalfMillisecond << Bme280Registers.StandbyShift);
        _device.WriteRegister8(Bme280Registers.ControlMeasurement, (byte)(
            Bme280Registers.Oversampling1 << Bme280Registers.TemperatureOversamplingShift |
            Bme280Registers.Oversampling1 << Bme280Registers.PressureOversamplingShift |
            Bme280Registers.ModeNormal));
    }

    public Bme280Calibration Calibration { get; }

    /// <summary>Reads one measurement: temperature (°C), pressure (Pa) and relative humidity (%).</summary>
    public void Read(out double temperatureCelsius, out double pressurePascals, out double humidityPercent)
    {
        Span<byte> data = stackalloc byte[Bme280Registers.DataLength];
        _device.WriteRead([Bme280Registers.PressureMsb], data);
        int adcP = data[0] << 12 | data[1] << 4 | data[2] >> 4;
        int adcT = data[3] << 12 | data[4] << 4 | data[5] >> 4;
        int adcH = data[6] << 8 | data[7];
        temperatureCelsius = Calibration.CompensateTemperatureCelsius(adcT, out double tFine);
        pressurePascals = Calibration.CompensatePressurePascals(adcP, tFine);
        humidityPercent = Calibration.CompensateHumidityPercent(adcH, tFine);
    }

    public double ReadTemperatureCelsius()
    {
        Read(out double t, out _, out _);
        return t;
    }

    public void Dispose()
    {
        try
        {
            _device.WriteRegister8(Bme280Registers.ControlMeasurement, Bme280Registers.ModeSleep);
        }
        catch (IOException)
        {
            // Best effort at shutdown.
        }
        _device.Dispose();
    }
}
