namespace EdgeAgent.Daemon.Sensors.Topics;

/// <summary>
/// The seam between MQTT and the sensors of type <c>mqtt</c>: the MQTT client subscribes to
/// <see cref="Topics"/> and hands every message on them to <see cref="Deliver"/>. Payloads are a JSON
/// number, a JSON array of numbers (one per channel), or an object <c>{"values": [...]}</c> / with one
/// field per channel name.
/// </summary>
public interface ITopicReadingRouter
{
    /// <summary>Topics (MQTT filters allowed) configured for <c>mqtt</c> sensors; empty when none.</summary>
    IReadOnlyList<string> Topics { get; }

    /// <summary>Accepts one message; returns false (with the reason) when no sensor takes it or it does not parse.</summary>
    bool Deliver(string topic, ReadOnlySpan<byte> payload, out string? error);
}
