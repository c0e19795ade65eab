namespace EdgeAgent.Daemon.Configuration;

/// <summary>Where the MQTT client connects: the configured broker, or the embedded one on loopback.</summary>
public sealed record BrokerEndpoint(string Host, int Port, bool Tls, bool Embedded)
{
    public static BrokerEndpoint From(MqttOptions mqtt)
    {
        if (mqtt.Broker.Length == 0) return new BrokerEndpoint("127.0.0.1", mqtt.EmbeddedPort, false, true);
        var uri = new Uri(mqtt.Broker);
        bool tls = uri.Scheme == "mqtts";
        return new BrokerEndpoint(uri.Host, uri.IsDefaultPort || uri.Port < 0 ? (tls ? 8883 : 1883) : uri.Port, tls, false);
    }

    public override string ToString() => $"{(Tls ? "mqtts" : "mqtt")}://{Host}:{Port}{(Embedded ? " (embedded)" : "")}";
}
