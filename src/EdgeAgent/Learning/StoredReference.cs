using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeAgent.Daemon.Models;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Daemon.Learning;

/// <summary>
/// The drift reference on disk (<c>state/learning/drift-reference.json</c>): which model and version it was
/// captured on, from how many windows, and the per-feature quantile bin edges with their shares. Written
/// with <see cref="DurableFile"/>, read through <see cref="JsonNode"/> (no reflection, NativeAOT-safe).
/// </summary>
public sealed record StoredReference(string Model, string Version, int Features, int Windows, PopulationStability Reference)
{
    public void Save(string path)
    {
        var edges = new JsonArray();
        var expected = new JsonArray();
        for (int f = 0; f < Reference.Features; f++)
        {
            edges.Add((JsonNode)new JsonArray(Reference.Edges[f].Select(e => (JsonNode?)e).ToArray()));
            expected.Add((JsonNode)new JsonArray(Reference.Expected[f].Select(e => (JsonNode?)e).ToArray()));
        }
        var json = new JsonObject
        {
            ["model"] = Model,
            ["version"] = Version,
            ["features"] = Features,
            ["windows"] = Windows,
            ["edges"] = edges,
            ["expected"] = expected,
        };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        DurableFile.WriteAllText(path, json.ToJsonString());
    }

    /// <summary>The stored reference, or null when there is none or it cannot be used (<paramref name="error"/> says why).</summary>
    public static StoredReference? TryLoad(string path, out string? error)
    {
        error = null;
        if (!File.Exists(path)) return null;
        try
        {
            var json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new FormatException("not a JSON object");
            string model = Required(json, "model").GetValue<string>();
            string version = Required(json, "version").GetValue<string>();
            int features = Required(json, "features").GetValue<int>();
            int windows = Required(json, "windows").GetValue<int>();
            var edges = Required(json, "edges").AsArray().Select(a => Row(a, "edges").Select(v => NotNull(v, "edges").GetValue<float>()).ToArray()).ToArray();
            var expected = Required(json, "expected").AsArray().Select(a => Row(a, "expected").Select(v => NotNull(v, "expected").GetValue<double>()).ToArray()).ToArray();
            if (edges.Length != features) throw new FormatException($"'features' is {features} but 'edges' has {edges.Length} entries");
            return new StoredReference(model, version, features, windows, new PopulationStability(edges, expected));
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or ArgumentException or IOException)
        {
            error = $"the drift reference {path} is unusable and will be captured again: {e.Message}";
            return null;
        }
    }

    private static JsonArray Row(JsonNode? row, string key) => NotNull(row, key).AsArray();

    private static JsonNode NotNull(JsonNode? node, string key) => node ?? throw new FormatException($"'{key}' holds a null");

    private static JsonNode Required(JsonObject json, string key) => json[key] ?? throw new FormatException($"field '{key}' is missing");
}
