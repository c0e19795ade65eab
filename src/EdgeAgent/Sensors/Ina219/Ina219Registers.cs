namespace EdgeAgent.Daemon.Sensors.Ina219;

/// <summary>INA219 register map and constants (TI datasheet SBOS448G, section 8.6).</summary>
public static class Ina219Registers
{
    public const byte Configuration = 0x00;
    public const byte ShuntVoltage = 0x01;   // signed, LSB 10 µV
    public const byte BusVoltage = 0x02;     // bits 15:3, LSB 4 mV; bit 1 CNVR, bit 0 OVF
    public const byte Power = 0x03;          // LSB = 20 × current LSB
    public const byte Current = 0x04;        // = shunt voltage × calibration / 4096
    public const byte Calibration = 0x05;

    public const ushort Reset = 0x8000;
    public const ushort PowerOnConfiguration = 0x399F;
    /// <summary>32 V bus range, ±320 mV shunt range (PGA /8), 12-bit bus and shunt ADC, continuous shunt and bus.</summary>
    public const ushort Configuration32V320mV12Bit = 0x399F;

    public const double ShuntVoltageLsbVolts = 10e-6;
    public const double BusVoltageLsbVolts = 4e-3;
    public const int BusVoltageShift = 3;
    public const ushort BusOverflow = 0x0001;
    /// <summary>Calibration = trunc(0.04096 / (current LSB × R_shunt)) (equation 1).</summary>
    public const double CalibrationScale = 0.04096;
    public const int PowerLsbPerCurrentLsb = 20;
}
