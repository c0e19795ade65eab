using System.Device.I2c;

namespace EdgeAgent.Daemon.Sensors.Ads1115;

/// <summary>
/// TI ADS1115 16-bit ADC over I2C (0x48-0x4B by the ADDR pin). Runs in continuous-conversion mode on one
/// single-ended input at the smallest data rate that meets the requested sampling rate, so each read is a
/// fresh conversion without a start/wait round trip.
/// </summary>
public sealed class Ads1115 : IDisposable
{
    private readonly I2cDevice _device;

    public Ads1115(I2cDevice device, double fullScaleVolts, double sampleRateHz, int input = 0)
    {
        _device = device;
        int pga = Ads1115Registers.PgaCode(fullScaleVolts);
        if (pga < 0) throw new SensorException($"{fullScaleVolts} V is not an ADS1115 full-scale range");
        if (input is < 0 or > 3) throw new SensorException($"ADS1115 input {input} does not exist (AIN0-AIN3)");
        var rates = Ads1115Registers.DataRates;
        int dr = rates.Length - 1;
        for (int i = 0; i < rates.Length; i++)
            if (rates[i] >= sampleRateHz) { dr = i; break; }
        FullScaleVolts = fullScaleVolts;
        DataRateSps = rates[dr];
        Input = input;
        ConfigValue = (ushort)(
            (Ads1115Registers.MuxSingleEnded0 + (input << Ads1115Registers.MuxShift)) |
            pga << Ads1115Registers.PgaShift |
            dr << Ads1115Registers.DataRateShift |
            Ads1115Registers.ComparatorDisable); // MODE = 0: continuous conversion
        _device.WriteRegister16(Ads1115Registers.Config, ConfigValue);
        ushort readBack = _device.ReadRegister16(Ads1115Registers.Config);
        // OS reads back as 1 when no conversion is in progress, 0 while converting; ignore it in the comparison.
        if ((readBack & 0x7FFF) != (ConfigValue & 0x7FFF))
            throw new SensorException($"no ADS1115 at 0x{device.ConnectionSettings.DeviceAddress:x2}: config reads back 0x{readBack:x4}, wrote 0x{ConfigValue:x4}");
    }

    public double FullScaleVolts { get; }
    public int DataRateSps { get; }
    public int Input { get; }
    public ushort ConfigValue { get; }

    /// <summary>The latest conversion in volts (two's complement code × FSR / 32768).</summary>
    public double ReadVolts() => (short)_device.ReadRegister16(Ads1115Registers.Conversion) * FullScaleVolts / 32768.0;

    public void Dispose()
    {
        try
        {
            _device.WriteRegister16(Ads1115Registers.Config, (ushort)(ConfigValue | Ads1115Registers.ModeSingleShot)); // power-down
        }
        catch (IOException)
        {
            // Best effort at shutdown.
        }
        _device.Dispose();
    }
}
