using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Hosting;
using EdgeAgent.Daemon.Inference;
using EdgeAgent.Daemon.Models;
using EdgeAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace EdgeAgent.Tests.Mqtt;

/// <summary>
/// Home Assistant discovery against the whole daemon: every retained config's template is evaluated on what the daemon
/// really publishes on the config's state topic, so a renamed field breaks the test, not the user's dashboard.
/// </summary>
public sealed partial class HomeAssistantDiscoveryTests
{
    private const string DeviceId = "ha-dev";

    [GeneratedRegex(@"^\{\{\s*value_json((?:\.\w+|\['[^']+'\]|\[-?\d+\])+)\s*\}\}$")]
    private static partial Regex ValueTemplate();

    [GeneratedRegex(@"^\{\{\s*'(\w+)' if value_json((?:\.\w+|\['[^']+'\])+) else '(\w+)'\s*\}\}$")]
    private static partial Regex ConditionalTemplate();

    [GeneratedRegex(@"\.(\w+)|\['([^']+)'\]|\[(-?\d+)\]")]
    private static partial Regex PathStep();

    /// <summary>The subset of Home Assistant's Jinja our configs use: a path of attributes, keys and (negative) indices.</summary>
    private static JsonNode? Follow(JsonNode? node, string path)
    {
        foreach (Match step in PathStep().Matches(path))
        {
            if (node is null) return null;
            if (step.Groups[3].Success)
            {
                var array = node.AsArray();
                int index = int.Parse(step.Groups[3].Value);
                node = array[index < 0 ? array.Count + index : index];
            }
            else node = node.AsObject()[step.Groups[1].Success ? step.Groups[1].Value : step.Groups[2].Value];
        }
        return node;
    }

    private static JsonNode? Render(string template, JsonNode payload)
    {
        var value = ValueTemplate().Match(template);
        if (value.Success) return Follow(payload, value.Groups[1].Value);
        var conditional = ConditionalTemplate().Match(template);
        Assert.True(conditional.Success, $"template '{template}' is not one the test understands");
        var condition = Follow(payload, conditional.Groups[2].Value);
        return condition is JsonValue v && v.TryGetValue(out bool b) && b ? conditional.Groups[1].Value : conditional.Groups[3].Value;
    }

    [Fact]
    public async Task EveryDiscoveredEntityReadsAValueFromWhatTheDaemonPublishes()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        using var dir = new TempDirectory();
        using var host = TestDaemon.Build(dir,
            $"--device:id={DeviceId}",
            $"--mqtt:broker={broker.Url}",
            "--mqtt:homeAssistantDiscovery=true",
            "--mqtt:telemetryIntervalMs=200",
            "--pipeline:hop=16").Host;
        await host.StartAsync();
        try
        {
            await using var ha = await TestClient.ConnectAsync(broker, "home-assistant");
            await ha.SubscribeAsync($"homeassistant/sensor/edgeagent_{DeviceId}/+/config");
            string[] entities = ["inference", "score", "health", "model_version", "outbox_dropped"];
            var configs = new Dictionary<string, JsonObject>();
            foreach (string entity in entities)
            {
                string topic = $"homeassistant/sensor/edgeagent_{DeviceId}/{entity}/config";
                var message = await ha.WaitForAsync(m => m.Topic == topic, TimeSpan.FromSeconds(20), topic);
                configs[entity] = JsonNode.Parse(TestClient.Text(message))!.AsObject();
            }
            // Retained, so a Home Assistant that starts later still discovers the device.
            await using (var restartedHa = await TestClient.ConnectAsync(broker, "home-assistant-restarted"))
            {
                await restartedHa.SubscribeAsync($"homeassistant/sensor/edgeagent_{DeviceId}/+/config");
                foreach (string entity in entities)
                {
                    string topic = $"homeassistant/sensor/edgeagent_{DeviceId}/{entity}/config";
                    Assert.True((await restartedHa.WaitForAsync(m => m.Topic == topic, TimeSpan.FromSeconds(10), topic)).Retain, $"{topic} is not retained");
                }
            }
            Assert.Equal(entities.Length, configs.Values.Select(c => (string?)c["unique_id"]).Distinct().Count());
            Assert.All(configs.Values, c => Assert.Equal($"edgeagent_{DeviceId}", (string?)c["device"]!["identifiers"]![0]));

            await ha.SubscribeAsync($"edgeagent/{DeviceId}/status");
            await ha.SubscribeAsync($"edgeagent/{DeviceId}/telemetry");
            var values = new Dictionary<string, JsonNode?>();
            foreach (var (entity, config) in configs)
            {
                string stateTopic = (string)config["state_topic"]!;
                var state = await ha.WaitForAsync(m => m.Topic == stateTopic && m.Payload.Length > 0, TimeSpan.FromSeconds(20), stateTopic);
                var payload = JsonNode.Parse(TestClient.Text(state))!;
                values[entity] = Render((string)config["value_template"]!, payload);
                Assert.True(values[entity] is not null, $"{entity}: '{config["value_template"]}' finds nothing in {stateTopic}: {TestClient.Text(state)}");

                string availabilityTopic = (string)config["availability_topic"]!;
                var status = await ha.WaitForAsync(m => m.Topic == availabilityTopic, TimeSpan.FromSeconds(20), availabilityTopic);
                Assert.Equal("online", (string?)Render((string)config["availability_template"]!, JsonNode.Parse(TestClient.Text(status))!));
            }
            Assert.Contains((string)values["inference"]!, new[] { "quiet", "loud" });
            double score = (double)values["score"]!;
            Assert.InRange(score, 0, 1);
            Assert.Equal("0.1", (string?)values["model_version"]);
            Assert.False(string.IsNullOrEmpty((string?)values["health"]));
            Assert.Equal(0, (long)values["outbox_dropped"]!);

            // A clean stop marks the device offline for every entity.
            await host.StopAsync(TimeSpan.FromSeconds(20));
            await using var late = await TestClient.ConnectAsync(broker, "home-assistant-late");
            var retainedStatus = await late.ReadRetainedAsync($"edgeagent/{DeviceId}/status", default);
            Assert.NotNull(retainedStatus);
            Assert.Equal("offline", (string?)Render((string)configs["health"]["availability_template"]!, JsonNode.Parse(retainedStatus)!));
        }
        finally
        {
            await host.StopAsync(TimeSpan.FromSeconds(20));
        }
    }
}
