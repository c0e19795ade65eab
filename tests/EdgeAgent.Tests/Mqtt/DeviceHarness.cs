using EdgeAgent.Daemon.Mqtt;

namespace EdgeAgent.Tests.Mqtt;

/// <summary>One device's control plane against a test broker, with its state in a temporary directory.</summary>
public sealed class DeviceHarness : IAsyncDisposable
{
    public string Directory { get; }
    public TestDevice Device { get; } = new();
    public TestModelStore Store { get; }
    public ListLogger Log { get; } = new();
    public MqttControlPlane Plane { get; private set; } = null!;
    public MqttOptions Options { get; }
    private readonly IBundleVerifier _verifier;

    public DeviceHarness(MosquittoBroker broker, IBundleVerifier verifier, string deviceId, string? directory = null, Action<MqttOptions>? configure = null)
    {
        Directory = directory ?? Path.Combine(Path.GetTempPath(), "edgeagent-device-" + Guid.NewGuid().ToString("N")[..8]);
        System.IO.Directory.CreateDirectory(Directory);
        Store = new TestModelStore(Path.Combine(Directory, "models"));
        Device.Model = () => Store.Current;
        _verifier = verifier;
        Options = new MqttOptions
        {
            Broker = broker.Url,
            DeviceId = deviceId,
            OutboxPath = Path.Combine(Directory, "outbox.db"),
            TransferDirectory = Path.Combine(Directory, "transfers"),
            ReconnectMinMs = 50,
            ReconnectMaxMs = 500,
            TelemetryIntervalMs = 100,
        };
        configure?.Invoke(Options);
    }

    public Task StartAsync(TimeSpan connectTimeout) => StartAsync(null, connectTimeout);

    public async Task StartAsync(Action<MqttControlPlane>? beforeStart = null, TimeSpan? connectTimeout = null)
    {
        Plane = new MqttControlPlane(Options, Device, Store, _verifier, Log.Factory(), "0.1.0-test");
        beforeStart?.Invoke(Plane);
        await Plane.StartAsync(CancellationToken.None);
        await Plane.Connection.WaitConnectedAsync(connectTimeout ?? TimeSpan.FromSeconds(10));
    }

    public async Task<InstalledModel> WaitForModelAsync(string version, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (Store.Current is { } current && current.Version == version) return current;
            await Task.Delay(25);
        }
        throw new TimeoutException($"model {version} not installed within {timeout.TotalSeconds} s (current {Store.Current?.Version ?? "none"}); log:\n" +
            string.Join("\n", Log.Lines.TakeLast(30)));
    }

    public async ValueTask DisposeAsync()
    {
        if (Plane is not null) await Plane.DisposeAsync();
        try { System.IO.Directory.Delete(Directory, recursive: true); } catch (IOException) { }
    }
}
