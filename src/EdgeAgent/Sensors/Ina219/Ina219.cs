using System.Device.I2c;

namespace EdgeAgent.Daemon.Sensors.Ina219;

/// <summary>
/// TI INA219 current and power monitor over I2C (0x40-0x4F). Calibrated for the shunt and the largest
/// expected current as datasheet section 8.5.1 describes; the chip then reports current and power itself.
/// Used to measure the energy each inference costs.
/// </summary>
public sealed class Ina219 : IDisposable
{
    private readonly I2cDevice _device;

    public Ina219(I2cDevice device, double shuntOhms, double maxCurrentAmperes)
    {
        if (shuntOhms <= 0 || maxCurrentAmperes <= 0) throw new SensorException("INA219 shunt resistance and maximum current must be positive");
        _device = device;
        _device.WriteRegister16(Ina219Registers.Configuration, Ina219Registers.Reset);
        ushort afterReset = _device.ReadRegister16(Ina219Registers.Configuration);
        if (afterReset != Ina219Registers.PowerOnConfiguration)
            throw new SensorException($"no INA219 at 0x{device.ConnectionSettings.DeviceAddress:x2}: configuration after reset is 0x{afterReset:x4}, expected 0x399f");
        CurrentLsbAmperes = maxCurrentAmperes / 32768.0;
        double calibration = Math.Truncate(Ina219Registers.CalibrationScale / (CurrentLsbAmperes * shuntOhms));
        if (calibration is < 1 or > 0xFFFE)
            throw new SensorException($"INA219 calibration {calibration} for {shuntOhms} Ω and {maxCurrentAmperes} A is outside the register's range");
        CalibrationValue = (ushort)((ushort)calibration & 0xFFFE); // bit 0 is read-only
        // With the calibration truncated, the current LSB that the chip actually uses is recomputed from it.
        CurrentLsbAmperes = Ina219Registers.CalibrationScale / (CalibrationValue * shuntOhms);
        _device.WriteRegister16(Ina219Registers.Configuration, Ina219Registers.Configuration32V320mV12Bit);
        _device.WriteRegister16(Ina219Registers.Calibration, CalibrationValue);
    }

    public ushort CalibrationValue { get; }
    public double CurrentLsbAmperes { get; }
    public double PowerLsbWatts => CurrentLsbAmperes * Ina219Registers.PowerLsbPerCurrentLsb;

    public double ReadShuntVoltageVolts() => (short)_device.ReadRegister16(Ina219Registers.ShuntVoltage) * Ina219Registers.ShuntVoltageLsbVolts;

    public double ReadBusVoltageVolts()
    {
        ushort raw = _device.ReadRegister16(Ina219Registers.BusVoltage);
        if ((raw & Ina219Registers.BusOverflow) != 0)
            throw new SensorException("INA219 math overflow: the current exceeds the calibrated range (raise maxCurrentAmperes)");
        return (raw >> Ina219Registers.BusVoltageShift) * Ina219Registers.BusVoltageLsbVolts;
    }

    public double ReadCurrentAmperes() => (short)_device.ReadRegister16(Ina219Registers.Current) * CurrentLsbAmperes;

    public double ReadPowerWatts() => _device.ReadRegister16(Ina219Registers.Power) * PowerLsbWatts;

    public void Dispose() => _device.Dispose();
}
