namespace EdgeAgent.Daemon.Sensors;

/// <summary>
/// What the daemon knows about each sensor type before opening it: the highest rate it can deliver and,
/// for bus devices, how many bytes one sample moves over I2C, so start-up can refuse rates a chip or a bus
/// cannot meet.
/// </summary>
public sealed record SensorKind(string Type, double MaxRateHz, int DefaultAddress, int I2cBytesPerSample, string Why)
{
    public bool IsI2c => I2cBytesPerSample > 0;

    public static IReadOnlyList<SensorKind> All { get; } =
    [
        new("simulated", 20_000, -1, 0, "the generator's limit"),
        new("csv", 20_000, -1, 0, "the replay's limit"),
        new("mqtt", 1_000, -1, 0, "readings arriving on a topic are sampled and held; faster sampling only repeats them"),
        // Accelerometer output rate is 1 kHz (register map rev 4.2, SMPLRT_DIV). Burst read of 14 bytes.
        new("mpu6050", 1_000, 0x68, 14 + 3, "the MPU-6050 accelerometer's 1 kHz output data rate"),
        // Normal mode with x1 oversampling of T, P and H: max measurement time 9.3 ms (datasheet 9.1) ≈ 107 Hz.
        new("bme280", 100, 0x76, 8 + 3, "the BME280's 9.3 ms measurement time at x1 oversampling"),
        // Continuous conversion at its highest data rate, 860 samples per second.
        new("ads1115", 860, 0x48, 2 + 3, "the ADS1115's highest data rate of 860 SPS"),
        // 12-bit bus and shunt conversions take 532 µs each; both are needed per sample.
        new("ina219", 900, 0x40, 8 + 6, "two 532 µs conversions (bus and shunt) per sample"),
    ];

    public static SensorKind? Find(string type) =>
        All.FirstOrDefault(k => k.Type.Equals(type, StringComparison.OrdinalIgnoreCase));
}
