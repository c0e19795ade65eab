namespace EdgeAgent.Daemon.Sensors.Bme280;

/// <summary>The BME280 as three channels: temperature (°C), pressure (hPa) and relative humidity (%).</summary>
public sealed class Bme280Source(string name, Bme280 chip) : ISensorSource
{
    public string Name { get; } = name;

    public IReadOnlyList<string> Channels { get; } = ["temperature_c", "pressure_hpa", "humidity_percent"];

    public double MaxRateHz => 100;

    public bool Read(long timestampTicks, Span<float> destination)
    {
        try
        {
            chip.Read(out double t, out double p, out double h);
            destination[0] = (float)t;
            destination[1] = (float)(p / 100.0);
            destination[2] = (float)h;
            return true;
        }
        catch (IOException e)
        {
            throw new SensorException($"sensor {Name} (bme280): {e.Message}", e);
        }
    }

    public void Dispose() => chip.Dispose();
}
