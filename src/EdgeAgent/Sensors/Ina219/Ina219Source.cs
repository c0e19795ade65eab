namespace EdgeAgent.Daemon.Sensors.Ina219;

/// <summary>The INA219 as three channels: bus voltage (V), current (A) and power (W).</summary>
public sealed class Ina219Source(string name, Ina219 chip) : ISensorSource
{
    public string Name { get; } = name;

    public IReadOnlyList<string> Channels { get; } = ["bus_v", "current_a", "power_w"];

    public double MaxRateHz => 900;

    public bool Read(long timestampTicks, Span<float> destination)
    {
        try
        {
            destination[0] = (float)chip.ReadBusVoltageVolts();
            destination[1] = (float)chip.ReadCurrentAmperes();
            destination[2] = (float)chip.ReadPowerWatts();
            return true;
        }
        catch (IOException e)
        {
            throw new SensorException($"sensor {Name} (ina219): {e.Message}", e);
        }
    }

    public void Dispose() => chip.Dispose();
}
