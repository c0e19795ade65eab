using System.Text.Json.Nodes;
using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Hosting;
using EdgeAgent.Daemon.Inference;
using EdgeAgent.Daemon.Models;
using EdgeAgent.Daemon.Reservoir;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Sensors.Gpio;

/// <summary>
/// GPIO outputs follow the inference stream; the teach button labels the latest window in the reservoir.
/// Does nothing (and opens no gpiochip) when neither is configured.
/// </summary>
internal sealed class GpioService(
    EdgeAgentOptions options, ModelHost models, Broadcast<InferenceRecord> records, IReservoir reservoir, EventHub events,
    TimeProvider time, IHostApplicationLifetime lifetime, ILogger<GpioService> logger) : BackgroundService
{
    /// <summary>Replaces the real GPIO lines (tests).</summary>
    internal Func<int, IGpioLines> OpenLines { get; set; } = chip => new DeviceGpioLines(chip);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var gpio = options.Gpio;
        if (gpio.Teach.Pin < 0 && gpio.Outputs.Count == 0) return;
        IGpioLines lines;
        try
        {
            lines = OpenLines(gpio.Chip);
        }
        catch (Exception e) when (e is SensorException or IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            Log.SensorFailed(logger, $"gpiochip{gpio.Chip}", e.Message);
            Environment.ExitCode = Program.ExitUnavailable;
            lifetime.StopApplication();
            return;
        }
        using (lines)
        {
            if (gpio.Teach.Pin >= 0)
                _ = new TeachButton(lines, gpio.Teach.Pin, gpio.Teach.Edge == "rising", TimeSpan.FromMilliseconds(gpio.Teach.DebounceMs), time, () => Teach(gpio.Teach));
            if (gpio.Outputs.Count == 0)
            {
                await WaitForStop(stoppingToken).ConfigureAwait(false);
                return;
            }
            var served = models.Current;
            var controller = new OutputController(lines, gpio.Outputs, served?.Descriptor.ClassNames ?? [], time);
            foreach (var unknown in controller.UnknownClasses)
                Log.GpioWarning(logger, $"an output follows class '{unknown}', which model {served?.Stored.Version} does not have; it stays off");
            using var subscription = records.Subscribe("gpio", 16);
            using var stop = subscription.CompleteOn(stoppingToken);
            string? version = served?.Stored.Version;
            try
            {
                await foreach (var record in subscription.Reader.ReadAllAsync().ConfigureAwait(false))
                {
                    if (record.ModelVersion != version && models.Current is { } now)
                    {
                        controller.SetClasses(now.Descriptor.ClassNames);
                        version = now.Stored.Version;
                    }
                    controller.Update(record.StableClass, record.SmoothedScore);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
        }
    }

    private void Teach(TeachButtonOptions teach)
    {
        try
        {
            long sample = reservoir.LabelLatest(teach.Label);
            Log.Taught(logger, teach.Pin, sample, teach.Label);
            events.Publish("label.added", $"teach button labelled sample {sample} as {teach.Label}",
                new JsonObject { ["sample"] = sample, ["class"] = teach.Label, ["source"] = "gpio" });
        }
        catch (InvalidOperationException e)
        {
            Log.GpioWarning(logger, $"teach button pressed but {e.Message}");
        }
    }

    private static async Task WaitForStop(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
