namespace EdgeAgent.Daemon.Mqtt;

/// <summary>An installed model version as the store knows it.</summary>
public sealed record InstalledModel(string Name, string Version, string Sha256, DateTimeOffset InstalledUtc);

/// <summary>The daemon's model store, as the control plane uses it. Install and Activate swap atomically or not at all.</summary>
public interface IModelStore
{
    InstalledModel? Current { get; }
    IReadOnlyList<InstalledModel> List();
    /// <summary>Copies a verified bundle into the store, stages it, and makes it current; throws leaving the old one current.</summary>
    InstalledModel Install(string bundlePath, BundleIdentity identity);
    /// <summary>Makes a stored version current again (rollback); throws when it is not in the store.</summary>
    InstalledModel Activate(string name, string version);
}
