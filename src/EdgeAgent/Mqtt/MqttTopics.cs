using EdgeAgent.Compression.Distribution;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>Every topic one device uses; the layout is documented in docs/mqtt.md.</summary>
public sealed class MqttTopics(string deviceId)
{
    public string DeviceId { get; } = TransferTopics.Segment(deviceId, "device id");
    public string Base => $"{TransferTopics.Root}/{DeviceId}";
    public string Status => Base + "/status";
    public string Telemetry => Base + "/telemetry";
    public string Events => Base + "/events";
    public string CommandFilter => Base + "/cmd/#";
    public string CommandPrefix => Base + "/cmd/";
    public string Reply(string verb) => $"{Base}/reply/{verb}";
    public string Command(string verb) => CommandPrefix + verb;
    public string DeviceModel => TransferTopics.DeviceModel(DeviceId);
    public static string FleetModel(string group) => TransferTopics.FleetModel(group);
    public static string FleetDelta(string group, string deviceId) => TransferTopics.FleetDelta(group, deviceId);
}
