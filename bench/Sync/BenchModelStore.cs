using EdgeAgent.Compression.Distribution;
using EdgeAgent.Daemon.Mqtt;

namespace EdgeAgent.Bench.Sync;

/// <summary>
/// Installs bundles the way a store must at the least (copy, fsync, then switch the current pointer), so the bench's
/// "installed" includes the disk work a real install does.
/// </summary>
internal sealed class BenchModelStore(string root) : IModelStore
{
    private readonly List<InstalledModel> _models = [];
    public InstalledModel? Current { get; private set; }
    public IReadOnlyList<InstalledModel> List() => [.. _models];

    public InstalledModel Install(string bundlePath, BundleIdentity identity)
    {
        string directory = Path.Combine(root, identity.Name, identity.Version);
        Directory.CreateDirectory(directory);
        string target = Path.Combine(directory, "model.eab");
        using (var source = File.OpenRead(bundlePath))
        using (var destination = new FileStream(target, FileMode.Create, FileAccess.Write))
        {
            source.CopyTo(destination);
            destination.Flush(flushToDisk: true);
        }
        var model = new InstalledModel(identity.Name, identity.Version, identity.Sha256, DateTimeOffset.UtcNow);
        _models.Add(model);
        Current = model;
        return model;
    }

    public InstalledModel Activate(string name, string version) =>
        Current = _models.FirstOrDefault(m => m.Name == name && m.Version == version) ?? throw new CommandException($"{name} {version} is not stored");
}
