namespace EdgeAgent.Daemon.Sensors.Bme280;

/// <summary>BME280 register map (Bosch BST-BME280-DS002, section 5.3 and table 16).</summary>
public static class Bme280Registers
{
    public const byte CalibrationBlock1 = 0x88;   // calib00..calib25: dig_T1..dig_P9, (0xA0 unused), dig_H1 at 0xA1
    public const int CalibrationBlock1Length = 26;
    public const byte CalibrationBlock2 = 0xE1;   // calib26..calib32: dig_H2..dig_H6
    public const int CalibrationBlock2Length = 7;
    public const byte ChipId = 0xD0;
    public const byte Reset = 0xE0;
    public const byte ControlHumidity = 0xF2;     // osrs_h[2:0]; takes effect after a write to ctrl_meas
    public const byte Status = 0xF3;              // measuring bit 3, im_update bit 0
    public const byte ControlMeasurement = 0xF4;  // osrs_t[7:5], osrs_p[4:2], mode[1:0]
    public const byte Config = 0xF5;              // t_sb[7:5], filter[4:2], spi3w_en[0]
    public const byte PressureMsb = 0xF7;         // press_msb, lsb, xlsb[7:4], temp msb, lsb, xlsb[7:4], hum msb, lsb
    public const int DataLength = 8;

    public const byte ChipIdValue = 0x60;
    public const byte ResetCommand = 0xB6;
    public const byte StatusMeasuring = 0x08;
    public const byte StatusImUpdate = 0x01;

    public const byte ModeSleep = 0b00;
    public const byte ModeForced = 0b01;
    public const byte ModeNormal = 0b11;
    public const byte Oversampling1 = 0b001;
    public const int TemperatureOversamplingShift = 5;
    public const int PressureOversamplingShift = 2;
    /// <summary>t_sb = 000: 0.5 ms standby between measurements in normal mode.</summary>
    public const byte StandbyHalfMillisecond = 0b000;
    public const int StandbyShift = 5;
}
