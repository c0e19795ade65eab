namespace EdgeAgent.Compression.Distribution;

/// <summary>
/// The few broker operations publishing a transfer needs. The daemon and the exporter each implement it over
/// their MQTT client; this library stays free of any broker library.
/// </summary>
public interface ITransferChannel
{
    /// <summary>Publishes a retained message at QoS 1 and returns once the broker acknowledged it.</summary>
    Task PublishRetainedAsync(string topic, ReadOnlyMemory<byte> payload, CancellationToken cancellationToken);

    /// <summary>The retained message on <paramref name="topic"/>, or null when there is none (waits briefly).</summary>
    Task<byte[]?> ReadRetainedAsync(string topic, CancellationToken cancellationToken);
}
