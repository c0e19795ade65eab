namespace EdgeAgent.Daemon.Inference;

/// <summary>
/// The transformation from raw sensor window to model input, as recorded in the bundle's manifest at
/// training time: per-channel centring and scaling, optionally removing each window's own mean first
/// (vibration models care about the AC part, not the mounting's gravity vector). Input is time-major
/// (<c>[t0c0, t0c1, ..., t1c0, ...]</c>); the output is too, or channel-major (<c>[c0t0, c0t1, ...]</c>,
/// the [C, L] layout of Conv1d models) when <see cref="ChannelMajor"/>.
/// </summary>
public sealed class Preprocessing
{
    private readonly float[] _mean;
    private readonly float[] _inverseStd;

    public Preprocessing(IReadOnlyList<float> mean, IReadOnlyList<float> std, bool removeWindowMean, bool channelMajor = false)
    {
        ChannelMajor = channelMajor;
        if (mean.Count != std.Count)
            throw new ArgumentException($"preprocessing has {mean.Count} means but {std.Count} standard deviations");
        _mean = mean.ToArray();
        _inverseStd = new float[std.Count];
        for (int c = 0; c < std.Count; c++)
        {
            if (!(std[c] > 0) || !float.IsFinite(std[c]))
                throw new ArgumentException($"preprocessing std[{c}] = {std[c]} must be a positive finite number");
            _inverseStd[c] = 1f / std[c];
        }
        RemoveWindowMean = removeWindowMean;
    }

    public static Preprocessing Identity(int channels) =>
        new(new float[channels], Enumerable.Repeat(1f, channels).ToArray(), removeWindowMean: false);

    public int Channels => _mean.Length;
    public bool RemoveWindowMean { get; }
    public bool ChannelMajor { get; }
    public IReadOnlyList<float> Mean => _mean;
    public IReadOnlyList<float> Std => _inverseStd.Select(s => 1f / s).ToArray();

    /// <summary>Writes the model input for one window; no allocation.</summary>
    public void Apply(ReadOnlySpan<float> window, Span<float> destination)
    {
        int channels = _mean.Length;
        if (window.Length % channels != 0 || destination.Length < window.Length)
            throw new ArgumentException($"window of {window.Length} values does not fit {channels} channels or the {destination.Length}-value input");
        int steps = window.Length / channels;
        Span<float> offset = stackalloc float[channels];
        for (int c = 0; c < channels; c++) offset[c] = _mean[c];
        if (RemoveWindowMean)
        {
            offset.Clear();
            for (int t = 0; t < steps; t++)
                for (int c = 0; c < channels; c++) offset[c] += window[t * channels + c];
            for (int c = 0; c < channels; c++) offset[c] /= steps;
        }
        if (ChannelMajor)
        {
            for (int c = 0; c < channels; c++)
            {
                float o = offset[c], k = _inverseStd[c];
                var plane = destination.Slice(c * steps, steps);
                for (int t = 0; t < steps; t++) plane[t] = (window[t * channels + c] - o) * k;
            }
            return;
        }
        for (int t = 0; t < steps; t++)
        {
            int row = t * channels;
            for (int c = 0; c < channels; c++)
                destination[row + c] = (window[row + c] - offset[c]) * _inverseStd[c];
        }
    }
}
