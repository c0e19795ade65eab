using EdgeAgent.Daemon.Sensors.Ina219;

namespace EdgeAgent.Tests.Sensors.Emulators;

/// <summary>
/// An INA219 at register level: configuration resets to 0x399F (bit 15 self-clears), shunt voltage in 10 µV
/// steps, bus voltage in 4 mV steps from bit 3 with CNVR set, and — only once calibrated, as on the chip —
/// current = shunt × calibration / 4096 and power = current × bus / 5000 (datasheet section 8.5).
/// </summary>
public sealed class Ina219Emulator : WordRegisterDevice
{
    private double _shuntVolts;
    private double _busVolts;

    public Ina219Emulator(int address = 0x40) : base(address) => Reset();

    public void SetInputs(double shuntVolts, double busVolts)
    {
        _shuntVolts = shuntVolts;
        _busVolts = busVolts;
    }

    private void Reset()
    {
        Array.Clear(Registers);
        Registers[Ina219Registers.Configuration] = Ina219Registers.PowerOnConfiguration;
    }

    protected override ushort ReadRegister(byte register)
    {
        short shunt = (short)Math.Clamp(Math.Round(_shuntVolts / 10e-6), short.MinValue, short.MaxValue);
        int bus = (int)Math.Round(_busVolts / 4e-3);
        ushort calibration = Registers[Ina219Registers.Calibration];
        int current = calibration == 0 ? 0 : shunt * calibration / 4096;
        return register switch
        {
            Ina219Registers.ShuntVoltage => (ushort)shunt,
            Ina219Registers.BusVoltage => (ushort)(bus << 3 | 0b10),
            Ina219Registers.Current => (ushort)(short)current,
            Ina219Registers.Power => (ushort)(calibration == 0 ? 0 : Math.Abs(current) * bus / 5000),
            _ => Registers[register],
        };
    }

    protected override void OnWrite(byte register, ushort value)
    {
        if (register == Ina219Registers.Configuration && (value & Ina219Registers.Reset) != 0)
        {
            Reset();
            return;
        }
        if (register == Ina219Registers.Calibration) value &= 0xFFFE;
        if (register is Ina219Registers.Configuration or Ina219Registers.Calibration) Registers[register] = value;
    }
}
