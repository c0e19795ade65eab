using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Hosting;
using EdgeAgent.Daemon.Models;
using EdgeAgent.Daemon.Sensors;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Pipeline;

/// <summary>
/// One dedicated thread per sensor, sampling on an absolute schedule (sample n is due at start + n/rate,
/// and is stamped with that due time, so jitter in waking up never shows as jitter in the data). The
/// pipeline sensor's samples go to the <see cref="WindowAssembler"/>; when the sampler falls more than a
/// quarter second behind (a stalled bus, a starved CPU) the missed samples are skipped and counted.
/// Registered before the model loader so sampling starts with the process: samples taken while the model loads
/// wait in a <see cref="SampleHistory"/> and become its first window. Stops on the host's stopping signal,
/// before any hosted service is stopped, so the inference loop and the reservoir still see it stop first.
/// </summary>
internal sealed class SamplingService(
    SensorRegistry sensors, ModelHost models, WindowQueue queue, PipelineMetrics metrics, EdgeAgentOptions options,
    TimeProvider time, IHostApplicationLifetime lifetime, ILogger<SamplingService> logger) : BackgroundService
{
    /// <summary>Samples kept for the first window while no model is served (4 s at 1 kHz).</summary>
    private const int HistorySamples = 4096;

    protected override async Task ExecuteAsync(CancellationToken serviceStopping)
    {
        using var stopping = CancellationTokenSource.CreateLinkedTokenSource(serviceStopping, lifetime.ApplicationStopping);
        var stoppingToken = stopping.Token;
        metrics.SamplerBeat(time.GetTimestamp());
        var threads = new List<Thread>();
        foreach (var (sensorOptions, source) in sensors.Sensors)
        {
            bool feedsModel = ReferenceEquals(source, sensors.PipelineSource.Source);
            var thread = new Thread(() => Run(sensorOptions, source, feedsModel, stoppingToken))
            {
                Name = $"sample-{sensorOptions.Name}",
                IsBackground = true,
                Priority = ThreadPriority.AboveNormal,
            };
            Log.SensorOpened(logger, sensorOptions.Name, sensorOptions.Type, sensorOptions.RateHz, string.Join(", ", source.Channels));
            thread.Start();
            threads.Add(thread);
        }
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        foreach (var thread in threads) thread.Join(TimeSpan.FromSeconds(2));
        queue.Complete();
    }

    private void Run(SensorOptions sensorOptions, ISensorSource source, bool feedsModel, CancellationToken stoppingToken)
    {
        try
        {
            Sample(sensorOptions, source, feedsModel, stoppingToken);
        }
        catch (SensorException e)
        {
            Log.SensorFailed(logger, sensorOptions.Name, e.Message);
            Environment.ExitCode = Program.ExitUnavailable;
            lifetime.StopApplication();
        }
    }

    private void Sample(SensorOptions sensorOptions, ISensorSource source, bool feedsModel, CancellationToken stoppingToken)
    {
        double rate = sensorOptions.RateHz;
        double ticksPerSample = TimeProviderTicksPerSecond / rate;
        long maxLagSamples = Math.Max(1, (long)(rate / 4));
        var sample = new float[source.Channels.Count];
        WindowAssembler? assembler = null;
        ServedModel? assembledFor = null;
        var history = feedsModel ? new SampleHistory(HistorySamples, source.Channels.Count) : null;
        long start = time.GetTimestamp();
        long n = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            long due = start + (long)(n * ticksPerSample);
            long now = time.GetTimestamp();
            if (now < due)
            {
                // Sleep rather than spin: at 1 kHz we wake about every millisecond and take every sample that is due.
                double waitMs = (due - now) * 1000.0 / TimeProviderTicksPerSecond;
                Thread.Sleep(Math.Max(1, (int)waitMs));
                continue;
            }
            long behind = (long)((now - due) / ticksPerSample);
            if (behind > maxLagSamples)
            {
                n += behind;
                metrics.AddDroppedSamples(behind);
                continue;
            }
            if (feedsModel)
            {
                var served = models.Current;
                if (!ReferenceEquals(served, assembledFor) && served is not null)
                {
                    assembler = CreateAssembler(served, source);
                    assembledFor = served;
                    history?.ReplayInto(assembler);
                    history = null;
                }
            }
            if (source.Read(due, sample))
            {
                if (assembler is not null) assembler.Add(due, sample);
                else history?.Add(due, sample);
                metrics.AddSamples(1);
            }
            metrics.SamplerBeat(now);
            n++;
        }
    }

    private WindowAssembler CreateAssembler(ServedModel served, ISensorSource source)
    {
        var d = served.Descriptor;
        if (d.Channels != source.Channels.Count)
            throw new SensorException(
                $"model {d.Name} {d.Version} expects {d.Channels} channels per sample but sensor '{source.Name}' gives {source.Channels.Count} ({string.Join(", ", source.Channels)}); choose another pipeline:source");
        int hop = options.Pipeline.Hop > 0 ? options.Pipeline.Hop : Math.Max(1, d.WindowSize / 2);
        if (hop > d.WindowSize)
            throw new SensorException($"pipeline:hop {hop} is larger than model {d.Name} {d.Version}'s window of {d.WindowSize} samples");
        return new WindowAssembler(d.WindowSize, d.Channels, hop, queue, time);
    }

    private double TimeProviderTicksPerSecond => time.TimestampFrequency;
}
