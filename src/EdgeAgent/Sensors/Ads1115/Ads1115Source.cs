namespace EdgeAgent.Daemon.Sensors.Ads1115;

/// <summary>The ADS1115 as one channel: the configured input's voltage.</summary>
public sealed class Ads1115Source(string name, Ads1115 chip) : ISensorSource
{
    public string Name { get; } = name;

    public IReadOnlyList<string> Channels { get; } = [$"ain{chip.Input}_v"];

    public double MaxRateHz => 860;

    public bool Read(long timestampTicks, Span<float> destination)
    {
        try
        {
            destination[0] = (float)chip.ReadVolts();
            return true;
        }
        catch (IOException e)
        {
            throw new SensorException($"sensor {Name} (ads1115): {e.Message}", e);
        }
    }

    public void Dispose() => chip.Dispose();
}
