using EdgeAgent.Daemon.Sensors.Ads1115;

namespace EdgeAgent.Tests.Sensors.Emulators;

/// <summary>
/// An ADS1115 at register level: config resets to 0x8583 (single-shot, ±2.048 V, 128 SPS, AIN0-AIN1),
/// OS reads back 1 when idle, and in continuous mode the conversion register holds the selected input's
/// voltage as a 16-bit two's complement code for the selected full-scale range, clipped at its ends.
/// </summary>
public sealed class Ads1115Emulator : WordRegisterDevice
{
    private readonly double[] _inputVolts = new double[4];

    public Ads1115Emulator(int address = 0x48) : base(address)
    {
        Registers[Ads1115Registers.Config] = 0x8583;
        Registers[Ads1115Registers.LowThreshold] = 0x8000;
        Registers[Ads1115Registers.HighThreshold] = 0x7FFF;
    }

    public void SetInputVolts(int input, double volts) => _inputVolts[input] = volts;

    public bool Continuous => (Registers[Ads1115Registers.Config] & Ads1115Registers.ModeSingleShot) == 0;

    public int DataRateSps => Ads1115Registers.DataRates[Registers[Ads1115Registers.Config] >> 5 & 7];

    protected override ushort ReadRegister(byte register)
    {
        if (register == Ads1115Registers.Conversion)
        {
            ushort config = Registers[Ads1115Registers.Config];
            int mux = config >> 12 & 7;
            if (mux < 4) return 0; // differential inputs are not emulated
            int pga = config >> 9 & 7;
            double fullScale = Ads1115Registers.FullScaleVolts[Math.Min(pga, 5)];
            double code = Math.Round(_inputVolts[mux - 4] / fullScale * 32768.0);
            return (ushort)(short)Math.Clamp(code, short.MinValue, short.MaxValue);
        }
        if (register == Ads1115Registers.Config) return (ushort)(Registers[register] | Ads1115Registers.OsStartSingle);
        return Registers[register];
    }

    protected override void OnWrite(byte register, ushort value)
    {
        if (register == Ads1115Registers.Conversion) return; // read-only
        Registers[register] = register == Ads1115Registers.Config ? (ushort)(value & 0x7FFF) : value;
    }
}
