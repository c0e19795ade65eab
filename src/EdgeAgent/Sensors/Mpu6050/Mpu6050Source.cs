namespace EdgeAgent.Daemon.Sensors.Mpu6050;

/// <summary>The MPU-6050 as a vibration sensor: three acceleration channels in g.</summary>
public sealed class Mpu6050Source(string name, Mpu6050 chip, double rateHz) : ISensorSource
{
    public string Name { get; } = name;

    public IReadOnlyList<string> Channels { get; } = ["accel_x_g", "accel_y_g", "accel_z_g"];

    public double MaxRateHz => 1000;

    public double RateHz { get; } = rateHz;

    public bool Read(long timestampTicks, Span<float> destination)
    {
        try
        {
            chip.ReadAccelerationG(destination);
            return true;
        }
        catch (IOException e)
        {
            throw new SensorException($"sensor {Name} (mpu6050): {e.Message}", e);
        }
    }

    public void Dispose() => chip.Dispose();
}
