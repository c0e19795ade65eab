using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>The device's verbs (docs/mqtt.md lists their arguments and results), each validating its own fields.</summary>
public static class DeviceCommands
{
    public static CommandRegistry Register(CommandRegistry registry, IDeviceControl device, IModelStore store, ModelSync sync,
        Func<JsonObject> status)
    {
        registry.Register("ping", (request, _) =>
        {
            request.AllowOnly();
            return Result(new JsonObject { ["pong"] = true, ["ts"] = DateTimeOffset.UtcNow.ToString("O") });
        });
        registry.Register("status", (request, _) =>
        {
            request.AllowOnly();
            return Result(status());
        });
        registry.Register("config/get", (request, _) =>
        {
            request.AllowOnly("key");
            string? key = request.OptionalString("key");
            return Result(new JsonObject { ["key"] = key, ["value"] = device.GetConfig(key) });
        });
        registry.Register("config/set", (request, _) =>
        {
            request.AllowOnly("key", "value");
            string key = request.RequireString("key");
            var value = request.RequireValue("value");
            return Result(device.SetConfig(key, JsonNode.Parse(value.GetRawText())));
        });
        registry.Register("model/list", (request, _) =>
        {
            request.AllowOnly();
            var current = store.Current;
            var models = new JsonArray();
            foreach (var m in store.List())
                models.Add((JsonNode)new JsonObject
                {
                    ["name"] = m.Name, ["version"] = m.Version, ["sha256"] = m.Sha256,
                    ["installed_utc"] = m.InstalledUtc.ToString("O"), ["current"] = m == current,
                });
            return Result(new JsonObject { ["models"] = models, ["transfer"] = sync.Progress() });
        });
        registry.Register("model/deploy", async (request, _) =>
        {
            request.AllowOnly("sha256", "name", "version");
            string? sha = request.OptionalString("sha256", 64);
            string? version = request.OptionalString("version", 64);
            if ((sha is null) == (version is null)) throw new CommandException("give either 'sha256' (a published bundle) or 'version' (a stored one)");
            if (sha is not null) return await sync.DeployAnnouncedAsync(sha, allowDowngrade: false).ConfigureAwait(false);
            var (name, stored) = FindStored(store, request.OptionalString("name", 128), version!);
            if (stored is null) throw new CommandException($"version '{version}' of '{name}' is not in the store (stored: {Versions(store, name)}); publish it and deploy by 'sha256'");
            var current = store.Current;
            if (current is not null && current.Name == name && ModelVersion.Compare(version!, current.Version) <= 0)
                throw new CommandException($"'{version}' is not newer than the running '{current.Version}'; use model/rollback to go back");
            return Describe(await sync.ActivateStoredAsync(name, version!, "model/activated").ConfigureAwait(false));
        });
        registry.Register("model/rollback", async (request, _) =>
        {
            request.AllowOnly("version", "name", "sha256");
            string version = request.RequireString("version", 64);
            string? sha = request.OptionalString("sha256", 64);
            var (name, stored) = FindStored(store, request.OptionalString("name", 128), version);
            if (stored is not null) return Describe(await sync.ActivateStoredAsync(name, version, "model/rolled-back").ConfigureAwait(false));
            if (sha is null)
                throw new CommandException($"version '{version}' of '{name}' is not in the store (stored: {Versions(store, name)}); " +
                    "a rollback to it needs its signed bundle: publish it and pass its 'sha256'");
            // Not stored: fetch the published bundle; its signature is checked like any install, only the version rule is lifted.
            return await sync.DeployAnnouncedAsync(sha, allowDowngrade: true).ConfigureAwait(false);
        });
        registry.Register("learn/now", async (request, cancellationToken) =>
        {
            request.AllowOnly();
            return await device.LearnNowAsync(cancellationToken).ConfigureAwait(false);
        });
        registry.Register("learn/pause", (request, _) =>
        {
            request.AllowOnly();
            return Result(device.PauseLearning());
        });
        registry.Register("learn/resume", (request, _) =>
        {
            request.AllowOnly();
            return Result(device.ResumeLearning());
        });
        registry.Register("label", (request, _) =>
        {
            request.AllowOnly("sample", "label");
            string label = request.RequireString("label", 64);
            if (label.Length == 0) throw new CommandException("field 'label' is empty");
            return Result(device.Label(request.OptionalString("sample", 64), label));
        });
        registry.Register("reservoir/stats", (request, _) =>
        {
            request.AllowOnly();
            return Result(device.ReservoirStats());
        });
        return registry;
    }

    private static ValueTask<JsonNode?> Result(JsonNode? node) => ValueTask.FromResult(node);

    private static (string Name, InstalledModel? Stored) FindStored(IModelStore store, string? name, string version)
    {
        name ??= store.Current?.Name ?? throw new CommandException("no model is running; give 'name'");
        return (name, store.List().FirstOrDefault(m => m.Name == name && m.Version == version));
    }

    private static string Versions(IModelStore store, string name)
    {
        var versions = store.List().Where(m => m.Name == name).Select(m => m.Version).ToList();
        return versions.Count == 0 ? "none" : string.Join(", ", versions);
    }

    private static JsonObject Describe(InstalledModel m) =>
        new() { ["state"] = "current", ["name"] = m.Name, ["version"] = m.Version, ["sha256"] = m.Sha256 };

    internal static string Kind(JsonElement value) => CommandRequest.Kind(value);
}
