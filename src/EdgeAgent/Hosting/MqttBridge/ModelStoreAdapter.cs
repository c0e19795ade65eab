using EdgeAgent.Daemon.Models;
using EdgeAgent.Daemon.Mqtt;

namespace EdgeAgent.Daemon.Hosting.MqttBridge;

/// <summary>
/// The MQTT layer's model store (<see cref="Mqtt.IModelStore"/>) over <see cref="ModelHost"/>: an installed bundle
/// is loaded and swapped in by the host, so a model that verifies but does not load is refused and the old one
/// keeps serving. Downgrade policy is the MQTT layer's (it refuses them before calling Install).
/// </summary>
internal sealed class ModelStoreAdapter(ModelHost models) : Mqtt.IModelStore
{
    public InstalledModel? Current => models.Current is { } c ? ToInstalled(c.Stored) : null;

    public IReadOnlyList<InstalledModel> List() => models.Store.List(models.ModelName).Select(ToInstalled).ToArray();

    public InstalledModel Install(string bundlePath, BundleIdentity identity)
    {
        try
        {
            var served = models.DeployAsync(bundlePath, allowDowngrade: true, parent: null, reason: $"deployed over MQTT (key {identity.KeyId})", CancellationToken.None)
                .GetAwaiter().GetResult();
            return ToInstalled(served.Stored);
        }
        catch (Exception e) when (e is ModelStoreException or Inference.ModelLoadException)
        {
            throw new CommandException(e.Message);
        }
    }

    public InstalledModel Activate(string name, string version)
    {
        if (name != models.ModelName) throw new CommandException($"this device serves '{models.ModelName}', not '{name}'");
        try
        {
            return ToInstalled(models.RollbackAsync(version, CancellationToken.None).GetAwaiter().GetResult().Stored);
        }
        catch (Exception e) when (e is ModelStoreException or Inference.ModelLoadException)
        {
            throw new CommandException(e.Message);
        }
    }

    private static InstalledModel ToInstalled(StoredModel m) => new(m.Name, m.Version, m.Sha256, m.InstalledAt);
}
