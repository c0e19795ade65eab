using System.Text;
using System.Text.Json.Nodes;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>
/// Home Assistant MQTT discovery: retained configs under <c>{prefix}/sensor/edgeagent_{d}/.../config</c> that make the
/// latest inference, its score, health, model version and queue drops appear as entities with no YAML. They read the
/// device's existing topics (status, telemetry) so nothing extra is published per inference.
/// </summary>
public static class HomeAssistantDiscovery
{
    public static IEnumerable<OutboundMessage> Messages(MqttTopics topics, string prefix, string softwareVersion)
    {
        string node = "edgeagent_" + topics.DeviceId;
        var device = new JsonObject
        {
            ["identifiers"] = new JsonArray(node),
            ["name"] = "EdgeAgent " + topics.DeviceId,
            ["manufacturer"] = "EdgeAgent",
            ["model"] = "edgeagent",
            ["sw_version"] = softwareVersion,
        };
        OutboundMessage Sensor(string id, string name, string stateTopic, string template, string? unit = null, string? icon = null)
        {
            var config = new JsonObject
            {
                ["name"] = name,
                ["unique_id"] = $"{node}_{id}",
                ["object_id"] = $"{node}_{id}",
                ["state_topic"] = stateTopic,
                ["value_template"] = template,
                ["availability_topic"] = topics.Status,
                ["availability_template"] = "{{ 'online' if value_json.online else 'offline' }}",
                ["device"] = device.DeepClone(),
            };
            if (unit is not null) config["unit_of_measurement"] = unit;
            if (icon is not null) config["icon"] = icon;
            return new OutboundMessage($"{prefix}/sensor/{node}/{id}/config", Encoding.UTF8.GetBytes(config.ToJsonString()), Qos: 1, Retain: true);
        }
        yield return Sensor("inference", "Inference", topics.Telemetry, "{{ value_json['items'][-1]['class'] }}", icon: "mdi:brain");
        yield return Sensor("score", "Inference score", topics.Telemetry, "{{ value_json['items'][-1].score }}", icon: "mdi:gauge");
        yield return Sensor("health", "Health", topics.Status, "{{ value_json.health }}", icon: "mdi:heart-pulse");
        yield return Sensor("model_version", "Model version", topics.Status, "{{ value_json.model.version }}", icon: "mdi:package-variant");
        yield return Sensor("outbox_dropped", "Messages dropped offline", topics.Status, "{{ value_json.outbox.dropped }}", icon: "mdi:delete-alert");
    }
}
