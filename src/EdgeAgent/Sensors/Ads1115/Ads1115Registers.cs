namespace EdgeAgent.Daemon.Sensors.Ads1115;

/// <summary>ADS1115 register map and configuration fields (TI datasheet SBAS444D, section 9.6).</summary>
public static class Ads1115Registers
{
    /// <summary>Address pointer register values (table 6).</summary>
    public const byte Conversion = 0x00;
    public const byte Config = 0x01;
    public const byte LowThreshold = 0x02;
    public const byte HighThreshold = 0x03;

    /// <summary>Config register fields (table 8).</summary>
    public const ushort OsStartSingle = 1 << 15;
    public const int MuxShift = 12;       // MUX[2:0]: 100..111 = AINx against GND
    public const ushort MuxSingleEnded0 = 0b100 << MuxShift;
    public const int PgaShift = 9;        // PGA[2:0]: full-scale range
    public const ushort ModeSingleShot = 1 << 8;
    public const int DataRateShift = 5;   // DR[2:0]: 8..860 SPS
    public const ushort ComparatorDisable = 0b11; // COMP_QUE = 11

    /// <summary>Full-scale range in volts for PGA codes 000..101 (codes 110 and 111 repeat ±0.256 V).</summary>
    public static ReadOnlySpan<double> FullScaleVolts => [6.144, 4.096, 2.048, 1.024, 0.512, 0.256];

    /// <summary>Data rates in samples per second for DR codes 000..111.</summary>
    public static ReadOnlySpan<int> DataRates => [8, 16, 32, 64, 128, 250, 475, 860];

    public static bool IsFullScale(double volts) => PgaCode(volts) >= 0;

    public static int PgaCode(double volts)
    {
        var ranges = FullScaleVolts;
        for (int i = 0; i < ranges.Length; i++)
            if (Math.Abs(ranges[i] - volts) < 1e-9) return i;
        return -1;
    }
}
