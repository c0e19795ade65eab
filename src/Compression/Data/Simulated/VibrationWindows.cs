namespace EdgeAgent.Compression.Data.Simulated;

/// <summary>
/// Labelled windows of the simulated machine, for training and evaluating vibration models. Each window comes
/// from its own generator (own seed, so its own shaft speed, amplitude, phase and noise) in one regime, the way
/// <c>edgeagent</c>'s simulated source produces them, so a model trained here matches what the daemon sees.
/// </summary>
public static class VibrationWindows
{
    /// <summary>
    /// <paramref name="perClass"/> windows of every <see cref="VibrationRegime"/>, interleaved by class, each
    /// <paramref name="windowSize"/> samples of x, y, z in time-major order (<c>[t0x, t0y, t0z, t1x, ...]</c>).
    /// Sensor noise varies per window within [<paramref name="noiseG"/>/2, 2·<paramref name="noiseG"/>].
    /// </summary>
    public static (float[] Windows, int[] Labels) Generate(int perClass, int windowSize, double sampleRateHz, double noiseG, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perClass, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(windowSize, 2);
        var regimes = Enum.GetValues<VibrationRegime>();
        int channels = VibrationGenerator.ChannelNames.Count;
        int count = perClass * regimes.Length;
        var windows = new float[(long)count * windowSize * channels];
        var labels = new int[count];
        var random = new Random(seed);
        Span<float> sample = stackalloc float[channels];
        for (int i = 0; i < count; i++)
        {
            var regime = regimes[i % regimes.Length];
            double noise = noiseG * (0.5 + 1.5 * random.NextDouble());
            var generator = new VibrationGenerator(sampleRateHz, random.Next(), noise, driftGPerHour: 0);
            generator.SetRegime(regime);
            // Start somewhere into the run, as a window cut from the daemon's stream would.
            for (int skip = random.Next(windowSize); skip > 0; skip--) generator.Next(sample);
            var window = windows.AsSpan(i * windowSize * channels, windowSize * channels);
            for (int t = 0; t < windowSize; t++) generator.Next(window.Slice(t * channels, channels));
            labels[i] = (int)regime;
        }
        return (windows, labels);
    }
}
