namespace EdgeAgent.Daemon.Mqtt;

/// <summary>A message as received; the payload is copied out of the client's buffers so handlers may keep it.</summary>
public sealed record IncomingMessage(string Topic, byte[] Payload, string? ResponseTopic, byte[]? CorrelationData, bool Retained);

/// <summary>A message to publish. QoS is 0 or 1: nothing we send needs exactly-once.</summary>
public sealed record OutboundMessage(string Topic, ReadOnlyMemory<byte> Payload, int Qos = 1, bool Retain = false,
    byte[]? CorrelationData = null);
