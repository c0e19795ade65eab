using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Hosting;
using EdgeAgent.Daemon.Inference;
using EdgeAgent.Daemon.Models;
using EdgeAgent.Daemon.Reservoir;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Pipeline;

/// <summary>
/// The inference loop: window → preprocessing (from the model's manifest) → model → post-processing →
/// published record, GPIO outputs (through the record stream) and the reservoir. Buffers are sized once per
/// model, so a steady-state window costs no managed allocation here.
/// </summary>
internal sealed class InferenceService(
    WindowQueue queue, ModelHost models, PipelineMetrics metrics, Broadcast<InferenceRecord> records, IReservoir reservoir,
    EdgeAgentOptions options, TimeProvider time, ILogger<InferenceService> logger, Learning.DriftMonitor? drift = null) : BackgroundService
{
    private ServedModel? _configuredFor;
    private float[] _input = [];
    private float[] _scores = [];
    private float[] _embedding = [];
    private PostProcessor? _post;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        var reader = queue.Reader;
        using var stop = queue.CompleteOn(stoppingToken);
        try
        {
            while (await reader.WaitToReadAsync().ConfigureAwait(false))
                while (reader.TryRead(out var window))
                {
                    try
                    {
                        // Per-thread counter: Process is synchronous, so this is exactly what one window cost.
                        long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
                        Process(window);
                        metrics.AddInferenceAllocation(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore);
                    }
                    finally
                    {
                        queue.Return(window);
                    }
                }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Runs one window through the model; public to the benchmark and tests through <see cref="ProcessForTest"/>.</summary>
    private void Process(Window window)
    {
        models.ReleaseRetired();
        var served = models.Current;
        if (served is null) return;
        if (!ReferenceEquals(served, _configuredFor)) Configure(served);
        var d = served.Descriptor;
        if (window.Length != d.InputLength || window.Channels != d.Channels) return; // cut for the previous model

        long started = time.GetTimestamp();
        d.Preprocessing.Apply(window.Span, _input);
        try
        {
            served.Engine.Run(_input, _scores, _embedding);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException)
        {
            Log.InferenceFailed(logger, d.Version, e.Message);
            return;
        }
        double latencyMs = time.GetElapsedTime(started).TotalMilliseconds;
        var post = _post!;
        post.Process(_scores);
        int stable = post.StableClass;
        string label = stable >= 0 ? d.ClassNames[stable] : "unknown";
        metrics.AddInference();
        metrics.LastPrediction = label;
        metrics.InferenceBeat(time.GetTimestamp());

        if (records.SubscriberCount > 0)
            records.Publish(new InferenceRecord(window.Sequence, window.Start, window.End, d.Version,
                post.RawClass, post.RawScore, stable, label, post.StableScore, latencyMs) { RawLabel = d.ClassNames[post.RawClass] });

        reservoir.Offer(new ReservoirOffer(window.Start, window.End, d.Version, d.Channels, d.ClassNames[post.RawClass], post.RawScore),
            window.Span, _embedding);
        drift?.Observe(served.Stored.Name, d.Version, _embedding, _scores);
    }

    internal void ProcessForTest(Window window) => Process(window);

    private void Configure(ServedModel served)
    {
        var d = served.Descriptor;
        _input = new float[d.InputLength];
        _scores = new float[d.ClassCount];
        _embedding = new float[d.EmbeddingLength];
        _post = new PostProcessor(d.ClassCount, d.OutputsProbabilities, options.Pipeline.Smoothing, options.Pipeline.Threshold, options.Pipeline.Hysteresis);
        _configuredFor = served;
    }
}
