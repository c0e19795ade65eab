using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Hosting;

/// <summary>The daemon's structured log messages (source-generated: no boxing, no reflection).</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Serving model {Name} {Version} ({Classes} classes, window {Window}x{Channels})")]
    public static partial void ModelServing(ILogger logger, string name, string version, int classes, int window, int channels);

    [LoggerMessage(2, LogLevel.Warning, "Model fallback: {Detail}")]
    public static partial void ModelFallback(ILogger logger, string detail);

    [LoggerMessage(3, LogLevel.Warning, "Inference loop silent for {Seconds:0.0} s; withholding the watchdog ping so systemd restarts us")]
    public static partial void WatchdogWithheld(ILogger logger, double seconds);

    [LoggerMessage(4, LogLevel.Information, "Embedded MQTT broker listening on 127.0.0.1:{Port}")]
    public static partial void EmbeddedBrokerStarted(ILogger logger, int port);

    [LoggerMessage(5, LogLevel.Information, "Sensor {Name} ({Type}) sampling at {RateHz} Hz: {Channels}")]
    public static partial void SensorOpened(ILogger logger, string name, string type, double rateHz, string channels);

    [LoggerMessage(6, LogLevel.Error, "Sensor {Name} failed: {Reason}")]
    public static partial void SensorFailed(ILogger logger, string name, string reason);

    [LoggerMessage(7, LogLevel.Warning, "Pipeline dropped {Samples} samples and {Windows} windows so far (consumer too slow)")]
    public static partial void Drops(ILogger logger, long samples, long windows);

    [LoggerMessage(8, LogLevel.Error, "Inference failed on model {Version}: {Reason}")]
    public static partial void InferenceFailed(ILogger logger, string version, string reason);

    [LoggerMessage(9, LogLevel.Information, "Event {Kind}: {Message}")]
    public static partial void Event(ILogger logger, string kind, string message);

    [LoggerMessage(10, LogLevel.Information, "Teach button on GPIO {Pin}: labelled sample {Sample} as {Label}")]
    public static partial void Taught(ILogger logger, int pin, long sample, string label);

    [LoggerMessage(11, LogLevel.Warning, "Reservoir: {Detail}")]
    public static partial void ReservoirWarning(ILogger logger, string detail);

    [LoggerMessage(12, LogLevel.Information, "Stopping: reservoir flushed ({Stored} samples stored)")]
    public static partial void ReservoirFlushed(ILogger logger, long stored);

    [LoggerMessage(13, LogLevel.Warning, "GPIO: {Detail}")]
    public static partial void GpioWarning(ILogger logger, string detail);
}
