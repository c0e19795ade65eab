namespace EdgeAgent.Daemon.Pipeline;

/// <summary>
/// One window of samples, time-major (<c>[t0c0, t0c1, ..., t1c0, ...]</c>), with the timestamps of its first
/// and last sample. Instances are pooled by <see cref="WindowQueue"/> and reused.
/// </summary>
public sealed class Window
{
    public float[] Values { get; private set; } = [];
    public int Length { get; private set; }
    public int Channels { get; private set; }
    public long Sequence { get; set; }
    public DateTimeOffset Start { get; set; }
    public DateTimeOffset End { get; set; }

    public Span<float> Span => Values.AsSpan(0, Length);

    /// <summary>Prepares the buffer for <paramref name="length"/> values; allocates only when the model's window grew.</summary>
    public void Reset(int length, int channels)
    {
        if (Values.Length < length) Values = new float[length];
        Length = length;
        Channels = channels;
    }
}
