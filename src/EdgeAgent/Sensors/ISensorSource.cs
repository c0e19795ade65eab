namespace EdgeAgent.Daemon.Sensors;

/// <summary>
/// Anything that yields samples of a fixed set of channels: an I2C chip, a simulated generator, a CSV
/// replay, readings arriving on MQTT topics. The sampler calls <see cref="Read"/> at the configured rate
/// and stamps each sample; sources never keep their own clock.
/// </summary>
public interface ISensorSource : IDisposable
{
    /// <summary>The configured name (<c>sensors:N:name</c>).</summary>
    string Name { get; }

    /// <summary>Channel names with units, e.g. <c>accel_x_g</c>, <c>temperature_c</c>.</summary>
    IReadOnlyList<string> Channels { get; }

    /// <summary>The highest sampling rate the source can sustain; configuration above it is refused.</summary>
    double MaxRateHz { get; }

    /// <summary>
    /// Reads one sample into <paramref name="destination"/> (one value per channel). Returns false when no new
    /// sample is available (a push source between messages, a replay at its end); throws
    /// <see cref="SensorException"/> on a device error. Must not allocate.
    /// </summary>
    bool Read(long timestampTicks, Span<float> destination);
}

public sealed class SensorException(string message, Exception? inner = null) : Exception(message, inner);
