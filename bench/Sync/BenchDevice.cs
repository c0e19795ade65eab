using System.Text.Json.Nodes;
using EdgeAgent.Daemon.Mqtt;

namespace EdgeAgent.Bench.Sync;

/// <summary>The bench device has no pipeline: status only, every other request is refused.</summary>
internal sealed class BenchDevice(Func<InstalledModel?> model) : IDeviceControl
{
    public JsonObject Status() => new()
    {
        ["version"] = "bench",
        ["model"] = model() is { } m ? new JsonObject { ["name"] = m.Name, ["version"] = m.Version } : null,
        ["health"] = "ok",
    };
    public JsonNode? GetConfig(string? key) => throw Refuse();
    public JsonObject SetConfig(string key, JsonNode? value) => throw Refuse();
    public Task<JsonObject> LearnNowAsync(CancellationToken cancellationToken) => throw Refuse();
    public JsonObject PauseLearning() => throw Refuse();
    public JsonObject ResumeLearning() => throw Refuse();
    public JsonObject Label(string? sampleId, string label) => throw Refuse();
    public JsonObject ReservoirStats() => throw Refuse();
    private static CommandException Refuse() => new("the sync bench device has no pipeline");
}
