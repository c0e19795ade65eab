using EdgeAgent.Compression.Data.Simulated;

namespace EdgeAgent.Daemon.Sensors.Simulated;

/// <summary>
/// The sensor used when none is configured: a <see cref="VibrationGenerator"/> that changes regime every
/// <c>regimeSeconds</c> of sample time, visiting the regimes in a seeded order so that every class appears.
/// <see cref="TrueRegime"/> is the ground truth, which the demo uses as an oracle labeller.
/// </summary>
public sealed class SimulatedVibrationSource : ISensorSource
{
    private readonly VibrationGenerator _generator;
    private readonly long _samplesPerRegime;
    private readonly VibrationRegime[] _schedule;
    private long _samples;

    public SimulatedVibrationSource(string name, double rateHz, int seed, double noiseG, double driftGPerHour, double regimeSeconds)
    {
        Name = name;
        _generator = new VibrationGenerator(rateHz, seed, noiseG, driftGPerHour);
        _samplesPerRegime = Math.Max(1, (long)Math.Round(regimeSeconds * rateHz));
        var random = new Random(seed);
        _schedule = Enum.GetValues<VibrationRegime>();
        random.Shuffle(_schedule);
        _generator.SetRegime(_schedule[0]);
    }

    public string Name { get; }

    public IReadOnlyList<string> Channels => VibrationGenerator.ChannelNames;

    public double MaxRateHz => 20_000;

    public VibrationRegime TrueRegime => _generator.Regime;

    public bool Read(long timestampTicks, Span<float> destination)
    {
        if (_samples > 0 && _samples % _samplesPerRegime == 0)
            _generator.SetRegime(_schedule[(int)(_samples / _samplesPerRegime % _schedule.Length)]);
        _generator.Next(destination);
        _samples++;
        return true;
    }

    public void Dispose()
    {
    }
}
