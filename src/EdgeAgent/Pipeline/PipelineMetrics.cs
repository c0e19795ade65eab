namespace EdgeAgent.Daemon.Pipeline;

/// <summary>
/// Counters shared by the sampling, windowing and inference loops; written with interlocked operations by
/// one writer each and read by the status provider and the watchdog.
/// </summary>
public sealed class PipelineMetrics
{
    private long _samples;
    private long _droppedSamples;
    private long _windows;
    private long _droppedWindows;
    private long _inferences;
    private long _inferenceHeartbeat;
    private long _samplerHeartbeat;
    private long _reservoirDropped;
    private long _inferenceAllocatedBytes;
    private long _firstInferenceTimestamp;

    public long Samples => Interlocked.Read(ref _samples);
    public long DroppedSamples => Interlocked.Read(ref _droppedSamples);
    public long Windows => Interlocked.Read(ref _windows);
    public long DroppedWindows => Interlocked.Read(ref _droppedWindows);
    public long Inferences => Interlocked.Read(ref _inferences);
    public long ReservoirDropped => Interlocked.Read(ref _reservoirDropped);

    /// <summary>
    /// Managed bytes the inference loop allocated while processing windows (preprocessing, model, post-processing,
    /// publishing, reservoir admission), summed: the steady-state difference over an interval divided by the
    /// inferences in it is the allocation per inference, which should be zero.
    /// </summary>
    public long InferenceAllocatedBytes => Interlocked.Read(ref _inferenceAllocatedBytes);

    /// <summary><see cref="TimeProvider.GetTimestamp"/> of the first finished inference; 0 until then.</summary>
    public long FirstInferenceTimestamp => Interlocked.Read(ref _firstInferenceTimestamp);

    /// <summary>Timestamp (<see cref="TimeProvider.GetTimestamp"/>) of the inference loop's last finished window.</summary>
    public long InferenceHeartbeat => Interlocked.Read(ref _inferenceHeartbeat);

    /// <summary>Timestamp of the sampling loops' last pass (a hung I2C bus stops it).</summary>
    public long SamplerHeartbeat => Interlocked.Read(ref _samplerHeartbeat);

    public volatile string? LastPrediction;

    public void AddSamples(long count) => Interlocked.Add(ref _samples, count);
    public void AddDroppedSamples(long count) => Interlocked.Add(ref _droppedSamples, count);
    public void AddWindow() => Interlocked.Increment(ref _windows);
    public void AddDroppedWindow() => Interlocked.Increment(ref _droppedWindows);
    public void AddInference() => Interlocked.Increment(ref _inferences);
    public void AddReservoirDropped() => Interlocked.Increment(ref _reservoirDropped);
    public void AddInferenceAllocation(long bytes) => Interlocked.Add(ref _inferenceAllocatedBytes, bytes);
    public void InferenceBeat(long timestamp)
    {
        Interlocked.Exchange(ref _inferenceHeartbeat, timestamp);
        Interlocked.CompareExchange(ref _firstInferenceTimestamp, timestamp, 0);
    }
    public void SamplerBeat(long timestamp) => Interlocked.Exchange(ref _samplerHeartbeat, timestamp);

    /// <summary>
    /// The pipeline is alive when the samplers keep running and the inference loop either finished a window
    /// recently or has nothing to do; windows waiting on a silent inference loop mean it is stuck.
    /// </summary>
    public bool IsAlive(TimeProvider time, TimeSpan limit, int pendingWindows) =>
        time.GetElapsedTime(SamplerHeartbeat) < limit &&
        (pendingWindows == 0 || time.GetElapsedTime(InferenceHeartbeat) < limit);
}
