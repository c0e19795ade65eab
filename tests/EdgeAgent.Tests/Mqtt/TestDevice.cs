using System.Text.Json.Nodes;
using EdgeAgent.Daemon.Mqtt;

namespace EdgeAgent.Tests.Mqtt;

/// <summary>
/// The daemon side of the control plane, reduced to state the tests can observe: a config with validated keys, a
/// learning switch, labels, and a counter the "inference loop" keeps bumping (to show commands never stall it).
/// </summary>
public sealed class TestDevice : IDeviceControl
{
    private readonly Dictionary<string, JsonNode?> _config = new() { ["Pipeline:WindowSize"] = 128, ["Learning:Enabled"] = true };
    public bool LearningPaused { get; private set; }
    public List<(string? Sample, string Label)> Labels { get; } = [];
    public long Inferences;
    public Func<InstalledModel?> Model { get; set; } = () => null;

    public JsonObject Status()
    {
        var model = Model();
        return new JsonObject
        {
            ["version"] = "0.1.0",
            ["model"] = model is null ? null : new JsonObject { ["name"] = model.Name, ["version"] = model.Version },
            ["uptime_s"] = 1,
            ["kernel"] = "scalar",
            ["rates"] = new JsonObject { ["inferences_per_s"] = 10 },
            ["health"] = "ok",
            ["inferences"] = Interlocked.Read(ref Inferences),
        };
    }

    public JsonNode? GetConfig(string? key)
    {
        if (key is null)
        {
            var all = new JsonObject();
            foreach (var (k, v) in _config) all[k] = v?.DeepClone();
            return all;
        }
        return _config.TryGetValue(key, out var value) ? value?.DeepClone() : throw new CommandException($"unknown config key '{key}'");
    }

    public JsonObject SetConfig(string key, JsonNode? value)
    {
        if (!_config.ContainsKey(key)) throw new CommandException($"unknown config key '{key}'");
        if (key == "Pipeline:WindowSize" && (value is not JsonValue v || !v.TryGetValue<int>(out int size) || size is < 8 or > 4096))
            throw new CommandException("Pipeline:WindowSize must be an integer in 8..4096");
        _config[key] = value?.DeepClone();
        return new JsonObject { ["key"] = key, ["applied_live"] = true };
    }

    public Task<JsonObject> LearnNowAsync(CancellationToken cancellationToken) =>
        Task.FromResult(new JsonObject { ["accepted"] = false, ["reason"] = "no labelled samples" });

    public JsonObject PauseLearning() { LearningPaused = true; return new JsonObject { ["paused"] = true }; }
    public JsonObject ResumeLearning() { LearningPaused = false; return new JsonObject { ["paused"] = false }; }

    public JsonObject Label(string? sampleId, string label)
    {
        Labels.Add((sampleId, label));
        return new JsonObject { ["sample"] = sampleId ?? "last-window", ["label"] = label };
    }

    public JsonObject ReservoirStats() => new() { ["samples"] = 0, ["labelled"] = Labels.Count };
}
