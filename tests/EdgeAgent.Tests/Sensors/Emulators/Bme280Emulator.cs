using System.Buffers.Binary;
using EdgeAgent.Daemon.Sensors.Bme280;

namespace EdgeAgent.Tests.Sensors.Emulators;

/// <summary>
/// A BME280 at register level: chip id 0x60, soft reset (0xB6 to 0xE0) restoring the power-on registers,
/// calibration NVM in 0x88-0xA1 and 0xE1-0xE7, ctrl_hum latched only by a write to ctrl_meas, and the data
/// registers holding the raw ADC values the test sets — as the datasheet describes, without knowing the driver.
/// </summary>
public sealed class Bme280Emulator : ByteRegisterDevice
{
    private byte _pendingHumidityControl;

    public Bme280Emulator(int address = 0x76) : base(address) => PowerOn();

    protected override bool WritesArePairs => true;

    public int Resets { get; private set; }

    /// <summary>The osrs_h value in effect (latched from ctrl_hum by a ctrl_meas write).</summary>
    public byte EffectiveHumidityOversampling { get; private set; }

    public byte Mode => (byte)(Registers[Bme280Registers.ControlMeasurement] & 0b11);

    public void SetCalibration(ushort t1, short t2, short t3, ushort p1, short p2, short p3, short p4, short p5, short p6, short p7, short p8, short p9,
        byte h1, short h2, byte h3, short h4, short h5, sbyte h6)
    {
        var b = Registers.AsSpan(0x88);
        BinaryPrimitives.WriteUInt16LittleEndian(b[0..], t1);
        BinaryPrimitives.WriteInt16LittleEndian(b[2..], t2);
        BinaryPrimitives.WriteInt16LittleEndian(b[4..], t3);
        BinaryPrimitives.WriteUInt16LittleEndian(b[6..], p1);
        short[] p = [p2, p3, p4, p5, p6, p7, p8, p9];
        for (int i = 0; i < p.Length; i++) BinaryPrimitives.WriteInt16LittleEndian(b[(8 + 2 * i)..], p[i]);
        Registers[0xA1] = h1;
        BinaryPrimitives.WriteInt16LittleEndian(Registers.AsSpan(0xE1), h2);
        Registers[0xE3] = h3;
        // 0xE4 = H4[11:4], 0xE5 = H5[3:0] << 4 | H4[3:0], 0xE6 = H5[11:4] (table 16).
        Registers[0xE4] = (byte)(h4 >> 4);
        Registers[0xE5] = (byte)((h5 & 0x0F) << 4 | (h4 & 0x0F));
        Registers[0xE6] = (byte)(h5 >> 4);
        Registers[0xE7] = (byte)h6;
    }

    private (int P, int T, int H) _environment = (0x80000, 0x80000, 0x8000);

    /// <summary>
    /// Sets what the ADCs would convert (raw 20-bit pressure and temperature, 16-bit humidity). The data
    /// registers show it after the next measurement: at once in normal mode, after a ctrl_meas write otherwise.
    /// </summary>
    public void SetRaw(int adcP, int adcT, int adcH)
    {
        _environment = (adcP, adcT, adcH);
        if (Mode == Bme280Registers.ModeNormal) Measure();
    }

    private void Measure() => SetDataRegisters(_environment.P, _environment.T, _environment.H);

    private void SetDataRegisters(int adcP, int adcT, int adcH)
    {
        Registers[0xF7] = (byte)(adcP >> 12);
        Registers[0xF8] = (byte)(adcP >> 4);
        Registers[0xF9] = (byte)((adcP & 0xF) << 4);
        Registers[0xFA] = (byte)(adcT >> 12);
        Registers[0xFB] = (byte)(adcT >> 4);
        Registers[0xFC] = (byte)((adcT & 0xF) << 4);
        Registers[0xFD] = (byte)(adcH >> 8);
        Registers[0xFE] = (byte)adcH;
    }

    private void PowerOn()
    {
        Registers[Bme280Registers.ChipId] = Bme280Registers.ChipIdValue;
        Registers[Bme280Registers.ControlHumidity] = 0;
        Registers[Bme280Registers.ControlMeasurement] = 0;
        Registers[Bme280Registers.Config] = 0;
        Registers[Bme280Registers.Status] = 0;
        // Data registers read 0x80000 / 0x8000 (no measurement yet) after reset.
        SetDataRegisters(0x80000, 0x80000, 0x8000);
        _pendingHumidityControl = 0;
        EffectiveHumidityOversampling = 0;
    }

    protected override void OnWrite(byte register, byte value)
    {
        switch (register)
        {
            case Bme280Registers.Reset:
                if (value == Bme280Registers.ResetCommand)
                {
                    // Soft reset keeps the NVM (calibration) and restores every control register.
                    PowerOn();
                    Resets++;
                }
                break;
            case Bme280Registers.ControlHumidity:
                _pendingHumidityControl = (byte)(value & 0x07);
                Registers[register] = value;
                break;
            case Bme280Registers.ControlMeasurement:
                Registers[register] = value;
                EffectiveHumidityOversampling = _pendingHumidityControl;
                if (Mode != Bme280Registers.ModeSleep) Measure();
                break;
            case Bme280Registers.Config:
                Registers[register] = value;
                break;
            default:
                // Calibration, id and data registers are read-only.
                break;
        }
    }
}
