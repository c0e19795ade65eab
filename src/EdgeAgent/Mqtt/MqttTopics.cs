using EdgeAgent.Compression.Distribution;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>Every topic one device uses; the layout is documented in docs/mqtt.md.</summary>
public sealed class MqttTopics
{
    public MqttTopics(string deviceId)
    {
        DeviceId = TransferTopics.Segment(deviceId, "device id");
        Base = $"{TransferTopics.Root}/{DeviceId}";
        Status = Base + "/status";
        Telemetry = Base + "/telemetry";
        Events = Base + "/events";
        CommandFilter = Base + "/cmd/#";
        CommandPrefix = Base + "/cmd/";
    }

    // Built once: the publishers and the command dispatcher read them on every message.
    public string DeviceId { get; }
    public string Base { get; }
    public string Status { get; }
    public string Telemetry { get; }
    public string Events { get; }
    public string CommandFilter { get; }
    public string CommandPrefix { get; }
    public string Reply(string verb) => $"{Base}/reply/{verb}";
    public string Command(string verb) => CommandPrefix + verb;
    public string DeviceModel => TransferTopics.DeviceModel(DeviceId);
    public static string FleetModel(string group) => TransferTopics.FleetModel(group);
    public static string FleetDelta(string group, string deviceId) => TransferTopics.FleetDelta(group, deviceId);
}
