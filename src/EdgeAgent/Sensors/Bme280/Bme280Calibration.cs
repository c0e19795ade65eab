using System.Buffers.Binary;

namespace EdgeAgent.Daemon.Sensors.Bme280;

/// <summary>
/// The trimming parameters each BME280 carries in its NVM (datasheet table 16) and the compensation
/// formulas of datasheet section 8.1 (double precision), which turn the raw 20-bit temperature and pressure
/// and 16-bit humidity readings into °C, Pa and %RH.
/// </summary>
public sealed record Bme280Calibration(
    ushort T1, short T2, short T3,
    ushort P1, short P2, short P3, short P4, short P5, short P6, short P7, short P8, short P9,
    byte H1, short H2, byte H3, short H4, short H5, sbyte H6)
{
    /// <summary>Decodes calib00..25 (from 0x88) and calib26..32 (from 0xE1).</summary>
    public static Bme280Calibration Parse(ReadOnlySpan<byte> block1, ReadOnlySpan<byte> block2)
    {
        if (block1.Length < Bme280Registers.CalibrationBlock1Length || block2.Length < Bme280Registers.CalibrationBlock2Length)
            throw new ArgumentException("BME280 calibration blocks are 26 and 7 bytes long");
        short S(ReadOnlySpan<byte> b, int offset) => BinaryPrimitives.ReadInt16LittleEndian(b[offset..]);
        ushort U(ReadOnlySpan<byte> b, int offset) => BinaryPrimitives.ReadUInt16LittleEndian(b[offset..]);
        // dig_H4 and dig_H5 are 12-bit signed values sharing register 0xE5: H4 = E4[11:4] | E5[3:0], H5 = E6[11:4] | E5[7:4].
        short h4 = (short)((sbyte)block2[3] * 16 | (block2[4] & 0x0F));
        short h5 = (short)((sbyte)block2[5] * 16 | (block2[4] >> 4));
        return new Bme280Calibration(
            U(block1, 0), S(block1, 2), S(block1, 4),
            U(block1, 6), S(block1, 8), S(block1, 10), S(block1, 12), S(block1, 14), S(block1, 16), S(block1, 18), S(block1, 20), S(block1, 22),
            block1[25], S(block2, 0), block2[2], h4, h5, (sbyte)block2[6]);
    }

    /// <summary>Temperature in °C, and t_fine, the fine temperature the other two compensations need.</summary>
    public double CompensateTemperatureCelsius(int adcT, out double tFine)
    {
        double var1 = (adcT / 16384.0 - T1 / 1024.0) * T2;
        double d = adcT / 131072.0 - T1 / 8192.0;
        double var2 = d * d * T3;
        tFine = var1 + var2;
        return tFine / 5120.0;
    }

    /// <summary>Pressure in Pa; 0 when the calibration would divide by zero (as the datasheet specifies).</summary>
    public double CompensatePressurePascals(int adcP, double tFine)
    {
        double var1 = tFine / 2.0 - 64000.0;
        double var2 = var1 * var1 * P6 / 32768.0;
        var2 += var1 * P5 * 2.0;
        var2 = var2 / 4.0 + P4 * 65536.0;
        var1 = (P3 * var1 * var1 / 524288.0 + P2 * var1) / 524288.0;
        var1 = (1.0 + var1 / 32768.0) * P1;
        if (var1 == 0.0) return 0;
        double p = 1048576.0 - adcP;
        p = (p - var2 / 4096.0) * 6250.0 / var1;
        var1 = P9 * p * p / 2147483648.0;
        var2 = p * P8 / 32768.0;
        return p + (var1 + var2 + P7) / 16.0;
    }

    /// <summary>Relative humidity in %, clamped to [0, 100].</summary>
    public double CompensateHumidityPercent(int adcH, double tFine)
    {
        double h = tFine - 76800.0;
        h = (adcH - (H4 * 64.0 + H5 / 16384.0 * h)) *
            (H2 / 65536.0 * (1.0 + H6 / 67108864.0 * h * (1.0 + H3 / 67108864.0 * h)));
        h *= 1.0 - H1 * h / 524288.0;
        return Math.Clamp(h, 0.0, 100.0);
    }
}
