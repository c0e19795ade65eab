namespace EdgeAgent.Daemon.Sensors.Mpu6050;

/// <summary>MPU-6000/6050 register map (InvenSense RM-MPU-6000A-00 rev 4.2).</summary>
public static class Mpu6050Registers
{
    public const byte SampleRateDivider = 0x19;   // SMPLRT_DIV: rate = gyro output rate / (1 + divider)
    public const byte Config = 0x1A;              // CONFIG: DLPF_CFG in bits 2:0
    public const byte GyroConfig = 0x1B;          // FS_SEL in bits 4:3
    public const byte AccelConfig = 0x1C;         // AFS_SEL in bits 4:3
    public const byte AccelXOutHigh = 0x3B;       // 14 bytes: accel x/y/z, temperature, gyro x/y/z, big-endian
    public const byte PowerManagement1 = 0x6B;    // PWR_MGMT_1: DEVICE_RESET bit 7, SLEEP bit 6, CLKSEL bits 2:0
    public const byte WhoAmI = 0x75;

    public const byte WhoAmIValue = 0x68;
    public const byte DeviceReset = 0x80;
    public const byte Sleep = 0x40;
    public const byte ClockPllGyroX = 0x01;       // recommended over the internal oscillator (section 4.28)
    public const int FullScaleShift = 3;
    public const int BurstLength = 14;

    /// <summary>DLPF_CFG = 1: 184 Hz accelerometer bandwidth, and a 1 kHz gyro output rate.</summary>
    public const byte Dlpf184Hz = 0x01;
    public const int GyroOutputRateWithDlpfHz = 1000;

    /// <summary>Gyro sensitivity per FS_SEL, LSB per °/s (product specification table 6.1; not exactly 32768 / range).</summary>
    public static ReadOnlySpan<double> GyroLsbPerDps => [131.0, 65.5, 32.8, 16.4];

    /// <summary>Accelerometer sensitivity per AFS_SEL, LSB per g (table 6.2).</summary>
    public static ReadOnlySpan<double> AccelLsbPerG => [16384.0, 8192.0, 4096.0, 2048.0];

    /// <summary>Temperature in °C = raw / 340 + 36.53 (register map section 4.18).</summary>
    public const double TemperatureLsbPerCelsius = 340.0;
    public const double TemperatureOffsetCelsius = 36.53;
}

/// <summary>AFS_SEL: accelerometer full-scale range and its sensitivity (LSB per g).</summary>
public enum AccelerometerRange
{
    PlusMinus2G = 0,
    PlusMinus4G = 1,
    PlusMinus8G = 2,
    PlusMinus16G = 3,
}

/// <summary>FS_SEL: gyroscope full-scale range.</summary>
public enum GyroscopeRange
{
    PlusMinus250Dps = 0,
    PlusMinus500Dps = 1,
    PlusMinus1000Dps = 2,
    PlusMinus2000Dps = 3,
}
