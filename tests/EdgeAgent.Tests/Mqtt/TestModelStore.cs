using EdgeAgent.Compression.Distribution;
using EdgeAgent.Daemon.Mqtt;

namespace EdgeAgent.Tests.Mqtt;

/// <summary>A model store over a temporary directory: installs copy the bundle, the current pointer switches at once.</summary>
public sealed class TestModelStore(string root) : IModelStore
{
    private readonly Lock _gate = new();
    private readonly List<InstalledModel> _models = [];
    private InstalledModel? _current;
    public int Installs;

    public InstalledModel? Current { get { lock (_gate) return _current; } }

    public IReadOnlyList<InstalledModel> List() { lock (_gate) return [.. _models]; }

    public InstalledModel Install(string bundlePath, BundleIdentity identity)
    {
        string directory = Path.Combine(root, identity.Name, identity.Version);
        Directory.CreateDirectory(directory);
        File.Copy(bundlePath, Path.Combine(directory, "model.bundle"), overwrite: true);
        var model = new InstalledModel(identity.Name, identity.Version, Hex.Sha256File(Path.Combine(directory, "model.bundle")), DateTimeOffset.UtcNow);
        lock (_gate)
        {
            _models.RemoveAll(m => m.Name == model.Name && m.Version == model.Version);
            _models.Add(model);
            _current = model;
            Installs++;
        }
        return model;
    }

    public InstalledModel Activate(string name, string version)
    {
        lock (_gate)
            return _current = _models.FirstOrDefault(m => m.Name == name && m.Version == version)
                ?? throw new CommandException($"{name} {version} is not in the store");
    }
}
