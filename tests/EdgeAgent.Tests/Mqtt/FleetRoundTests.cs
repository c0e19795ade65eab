using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Deltas;
using EdgeAgent.Compression.Distribution;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Hosting;
using EdgeAgent.Daemon.Inference;
using EdgeAgent.Daemon.Learning;
using EdgeAgent.Daemon.Models;
using EdgeAgent.Daemon.Reservoir;
using EdgeAgent.Tests.Learning;
using EdgeAgent.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;
using Xunit.Abstractions;

namespace EdgeAgent.Tests.Mqtt;

/// <summary>
/// One federated round end to end against mosquitto: the fleet model is published with <c>exporter publish</c>; two
/// whole daemons (in-process hosts, real store, verifier, learner and MQTT client) each learn from their own labelled
/// samples on <c>learn/now</c>, which publishes a signed delta; <c>exporter fleet aggregate</c> (a separate process)
/// averages them and publishes the fleet version; both daemons install it over MQTT.
/// </summary>
public sealed class FleetRoundTests(ITestOutputHelper output)
{
    private const string Group = "line-1";
    private const int Embedding = 256;

    /// <summary>Serves any signed bundle with a deterministic engine: these tests are about sync, not inference.</summary>
    private sealed class AnyBundleEngineFactory : IInferenceEngineFactory
    {
        public IInferenceEngine Load(string bundlePath, string name, string version)
        {
            var manifest = ModelBundle.ReadFile(bundlePath).Manifest;
            return new EnergyEngine(manifest.Name, manifest.Version, windowSize: 64, channels: 3);
        }
    }

    private sealed class FleetDevice(string id, string state, IHost host, MemoryReservoir reservoir) : IAsyncDisposable
    {
        public string Id => id;
        public MemoryReservoir Reservoir => reservoir;
        public ModelHost Models => host.Services.GetRequiredService<ModelHost>();
        public string PublicKeyFile => Path.Combine(state, "learning", DeviceSigningKey.PublicKeyFile);
        public string? ServedVersion => Models.Current?.Stored.Version;
        public ILearningControl Learner => host.Services.GetRequiredService<ILearningControl>();

        public static async Task<FleetDevice> StartAsync(MosquittoBroker broker, TempDirectory dir, string id, string baseBundle, string fleetPublicKey)
        {
            string state = dir.File(id);
            var configuration = ConfigLoader.Load(null, [
                $"--device:id={id}",
                $"--device:stateDirectory={state}",
                "--model:name=" + FleetModels.Name,
                $"--model:trustedKeys:0={fleetPublicKey}",
                $"--model:demoBundle={baseBundle}",
                $"--mqtt:broker={broker.Url}",
                $"--mqtt:fleetGroups:0={Group}",
                "--learning:minNewLabels=1000000",
                "--learning:epochs=20",
                "--learning:timeBudgetSeconds=120",
                "--learning:nice=0",
            ], includeEnvironment: false);
            var options = OptionsBinder.BindOrThrow(configuration);
            var reservoir = new MemoryReservoir();
            var host = DaemonHost.Build(options, configuration, new DaemonHostSettings
            {
                ConfigureServices = services =>
                {
                    services.AddSingleton<IInferenceEngineFactory>(new AnyBundleEngineFactory());
                    services.AddSingleton<IReservoir>(reservoir);
                },
            });
            await host.StartAsync();
            return new FleetDevice(id, state, host, reservoir);
        }

        public async ValueTask DisposeAsync()
        {
            await host.StopAsync(TimeSpan.FromSeconds(20));
            host.Dispose();
        }
    }

    /// <summary>Labelled embeddings from ten shared clusters (one world), in a per-device amount (their own experience).</summary>
    private static void Teach(MemoryReservoir reservoir, float[][] centres, int perClass, int heldOutPerClass, int seed)
    {
        var random = new Random(seed);
        float[] Sample(int c) => [.. centres[c].Select(v => Math.Max(0f, v + (float)(random.NextDouble() - 0.5) * 0.6f))];
        for (int c = 0; c < centres.Length; c++)
        {
            for (int i = 0; i < perClass; i++) reservoir.Add(Sample(c), FleetModels.Labels[c], heldOut: false);
            for (int i = 0; i < heldOutPerClass; i++) reservoir.Add(Sample(c), FleetModels.Labels[c], heldOut: true);
        }
    }

    private static async Task WaitUntil(Func<bool> condition, TimeSpan timeout, Func<string> what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException(what());
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task TwoDaemonsDeltasAggregateIntoAFleetVersionBothInstall()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        using var dir = new TempDirectory();
        using var fleetKey = BundleSigningKey.Generate();
        string fleetPem = dir.Write("fleet.pem", fleetKey.ExportPrivatePem());
        string fleetPub = dir.Write("fleet.pub", fleetKey.PublicKey.ExportPem());
        byte[] baseBytes = FleetModels.BaseBundle(fleetKey);
        string basePath = dir.File("fleet-mlp-1.0.0.eab");
        await File.WriteAllBytesAsync(basePath, baseBytes);

        var published = await ExporterProcess.RunAsync(TimeSpan.FromSeconds(60), "publish", basePath, "--broker", broker.Url, "--fleet", Group);
        Assert.True(published.Code == 0, published.Err);

        await using var a = await FleetDevice.StartAsync(broker, dir, "pi-a", basePath, fleetPub);
        await using var b = await FleetDevice.StartAsync(broker, dir, "pi-b", basePath, fleetPub);
        Assert.Equal("1.0.0", a.ServedVersion);
        Assert.Equal("1.0.0", b.ServedVersion);

        var centreRandom = new Random(99);
        var centres = Enumerable.Range(0, FleetModels.Labels.Length)
            .Select(_ => Enumerable.Range(0, Embedding).Select(_ => (float)centreRandom.NextDouble() * 2f).ToArray()).ToArray();
        Teach(a.Reservoir, centres, perClass: 24, heldOutPerClass: 6, seed: 1);
        Teach(b.Reservoir, centres, perClass: 12, heldOutPerClass: 6, seed: 2);

        await using var operatorClient = await TestClient.ConnectAsync(broker, "operator");
        await operatorClient.SubscribeAsync("edgeagent/+/reply/#");
        await operatorClient.SubscribeAsync("edgeagent/+/events");
        // The hosts are started; their MQTT clients subscribe to commands a moment later. A command sent before that
        // would reach no one, so wait until each answers a ping.
        foreach (var device in new[] { a, b })
        {
            for (int attempt = 0; ; attempt++)
            {
                await operatorClient.PublishAsync($"edgeagent/{device.Id}/cmd/ping", $$"""{"id": "ping-{{attempt}}"}""");
                try
                {
                    await operatorClient.WaitForAsync(m => m.Topic == $"edgeagent/{device.Id}/reply/ping", TimeSpan.FromSeconds(1), $"ping reply from {device.Id}");
                    break;
                }
                catch (TimeoutException) when (attempt < 30) { }
            }
        }
        var learnt = new Dictionary<string, JsonObject>();
        foreach (var device in new[] { a, b })
        {
            await operatorClient.PublishAsync($"edgeagent/{device.Id}/cmd/learn/now", $$"""{"id": "learn-{{device.Id}}"}""");
            var reply = await operatorClient.WaitForAsync(m => m.Topic == $"edgeagent/{device.Id}/reply/learn/now", TimeSpan.FromSeconds(120),
                $"learn/now reply from {device.Id} (learner: {device.Learner.State().ToJsonString()})");
            var json = JsonNode.Parse(TestClient.Text(reply))!.AsObject();
            Assert.True((bool)json["ok"]!, json.ToJsonString());
            Assert.True((string?)json["result"]!["verdict"] == "accepted", json.ToJsonString());
            learnt[device.Id] = json["result"]!.AsObject();
            Assert.Equal("1.0.1-device.1", device.ServedVersion);
            // The accepted update turns into a signed delta on the fleet topic without anyone asking.
            var evt = await operatorClient.WaitForAsync(m => m.Topic == $"edgeagent/{device.Id}/events" && TestClient.Text(m).Contains("\"learn/delta-published\""),
                TimeSpan.FromSeconds(30), $"learn/delta-published from {device.Id}");
            Assert.True(JsonNode.Parse(TestClient.Text(evt))!["sent"]!.GetValue<bool>());
        }

        string summaryPath = dir.File("round.json");
        var aggregate = await ExporterProcess.RunAsync(TimeSpan.FromSeconds(120), "fleet", "aggregate", "--group", Group, "--broker", broker.Url,
            "--key", fleetPem, "--device-keys", a.PublicKeyFile, "--device-keys", b.PublicKeyFile, "--min-devices", "2", "--json", summaryPath);
        output.WriteLine(aggregate.Out);
        Assert.True(aggregate.Code == 0, aggregate.Out + aggregate.Err);
        using var summary = JsonDocument.Parse(await File.ReadAllBytesAsync(summaryPath));
        var root = summary.RootElement;
        string fleetVersion = root.GetProperty("version").GetString()!;
        Assert.Equal("1.0.1", fleetVersion);
        Assert.Equal(FleetModels.Labels.Length * (24 + 12), root.GetProperty("samples").GetInt64());
        var contributions = root.GetProperty("contributions").EnumerateArray().ToDictionary(c => c.GetProperty("device").GetString()!);
        Assert.Equal(["pi-a", "pi-b"], contributions.Keys.Order());
        Assert.Equal(240, contributions["pi-a"].GetProperty("samples").GetInt64());
        Assert.Equal(120, contributions["pi-b"].GetProperty("samples").GetInt64());
        foreach (var (device, c) in contributions)
        {
            long deltaBytes = c.GetProperty("delta_bytes").GetInt64();
            double fraction = c.GetProperty("delta_fraction").GetDouble();
            output.WriteLine($"{device}: delta {deltaBytes} bytes = {fraction:P2} of the {root.GetProperty("base_bundle_bytes").GetInt64()}-byte bundle");
            Assert.True(fraction <= 0.05, $"{device}'s delta is {fraction:P2} of the bundle");
        }

        // Both daemons install the fleet version from the broker; it supersedes their local versions.
        await WaitUntil(() => a.ServedVersion == fleetVersion && b.ServedVersion == fleetVersion, TimeSpan.FromSeconds(60),
            () => $"fleet version {fleetVersion} not installed: pi-a serves {a.ServedVersion}, pi-b {b.ServedVersion}");
        string sha = root.GetProperty("sha256").GetString()!;
        Assert.Equal(sha, a.Models.Current!.Stored.Sha256);
        Assert.Equal(sha, b.Models.Current!.Stored.Sha256);

        // The head is the samples-weighted average of the two devices' heads (within one int8 step per channel).
        var fleet = ModelBundle.ReadFile(a.Models.Current.Stored.BundlePath);
        using (var trusted = new TrustedKeySet([fleetKey.PublicKey])) fleet.Verify(trusted);
        var (fleetW, fleetB) = Head(fleet);
        var (aW, _) = Head(ModelBundle.ReadFile((string)learnt["pi-a"]["bundle"]!));
        var (bW, _) = Head(ModelBundle.ReadFile((string)learnt["pi-b"]["bundle"]!));
        var (baseW, _) = Head(ModelBundle.Read(baseBytes));
        Assert.NotNull(fleetB);
        double worst = 0, step = aW.Concat(bW).Max(MathF.Abs) / 127.0, moved = 0;
        for (int i = 0; i < fleetW.Length; i++)
        {
            double expected = (240.0 * aW[i] + 120.0 * bW[i]) / 360.0;
            worst = Math.Max(worst, Math.Abs(fleetW[i] - expected));
            moved = Math.Max(moved, Math.Abs(fleetW[i] - baseW[i]));
        }
        output.WriteLine($"fleet head vs weighted average: max error {worst:G3} (int8 step {step:G3}); max move from the base {moved:G3}");
        Assert.True(worst <= step, $"fleet head differs from the weighted average by {worst} (> {step})");
        Assert.True(moved > 4 * step, "the fleet head did not move from the base");

        // The deltas that went into the round are cleared from the broker.
        // The group's retained fleet model manifest arriving proves the broker sent this subscription's retained set.
        await using var probe = await TestClient.ConnectAsync(broker, "probe");
        await probe.SubscribeAsync($"edgeagent/fleet/{Group}/+/+/manifest");
        await probe.SubscribeAsync($"edgeagent/fleet/{Group}/model/manifest");
        await probe.WaitForAsync(m => m.Topic == TransferTopics.Manifest(TransferTopics.FleetModel(Group)), TimeSpan.FromSeconds(10), "the retained fleet model manifest");
        await Task.Delay(500);
        Assert.DoesNotContain(probe.Received, m => m.Topic.Contains("/delta/", StringComparison.Ordinal) && m.Payload.Length > 0);
    }

    private static (float[] Weights, float[]? Bias) Head(ModelBundle bundle)
    {
        var tensors = BundleWeights.ReadTrainable(bundle).ToDictionary(t => t.Name, StringComparer.Ordinal);
        return BundleWeights.FindQuantizedLayers(bundle).Single().Dequantize(tensors);
    }
}

/// <summary><c>exporter fleet aggregate</c>'s refusals: untrusted device keys, deltas on another base, too few devices, dry run.</summary>
public sealed class FleetAggregateRefusalTests(ITestOutputHelper output)
{
    private const string Group = "line-2";

    [Fact]
    public async Task UntrustedAndForeignBaseDeltasAreLeftOutAndNamed()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        using var bundles = new TestBundles();
        using var dir = new TempDirectory();
        using var fleetKey = BundleSigningKey.Generate();
        string fleetPem = dir.Write("fleet.pem", fleetKey.ExportPrivatePem());
        byte[] baseBytes = FleetModels.BaseBundle(fleetKey);
        string basePath = dir.File("base.eab"), otherBasePath = dir.File("other-base.eab");
        await File.WriteAllBytesAsync(basePath, baseBytes);
        await File.WriteAllBytesAsync(otherBasePath, FleetModels.BaseBundle(fleetKey, "0.9.0"));
        var published = await ExporterProcess.RunAsync(TimeSpan.FromSeconds(60), "publish", basePath, "--broker", broker.Url, "--fleet", Group);
        Assert.True(published.Code == 0, published.Err);

        var devices = new List<DeviceHarness>();
        try
        {
            foreach (var (id, onBase, seed) in new[] { ("pi-c", basePath, 1), ("pi-d", basePath, 2), ("pi-e", otherBasePath, 3) })
            {
                var device = new DeviceHarness(broker, bundles, id, configure: o =>
                {
                    o.FleetGroups = [Group];
                    o.DeltaDirectory = Path.Combine(o.TransferDirectory, "..", "deltas");
                    o.DeltaSigningKeyFile = Path.Combine(o.TransferDirectory, "..", "device-key.pem");
                });
                devices.Add(device);
                await device.StartAsync(TimeSpan.FromSeconds(10));
                string updated = Path.Combine(device.Directory, "updated.eab");
                await File.WriteAllBytesAsync(updated, FleetModels.UpdateHead(await File.ReadAllBytesAsync(onBase), "1.0.1-device.1", seed, bundles.Key));
                Assert.True((await device.Plane.Deltas.PublishAsync(onBase, updated, new Dictionary<string, long> { ["c0"] = 10 * seed })).Sent);
            }
            string trustedC = devices[0].Options.DeltaSigningKeyFile + ".pub", trustedE = devices[2].Options.DeltaSigningKeyFile + ".pub";

            // pi-d's key is not trusted and pi-e worked on another base: one usable delta, two required.
            var refused = await ExporterProcess.RunAsync(TimeSpan.FromSeconds(60), "fleet", "aggregate", "--group", Group, "--broker", broker.Url,
                "--key", fleetPem, "--device-keys", trustedC, "--device-keys", trustedE, "--min-devices", "2");
            output.WriteLine(refused.Out + refused.Err);
            Assert.Equal(1, refused.Code);
            Assert.Contains("1 usable delta(s)", refused.Err);
            Assert.Contains("pi-d", refused.Err);
            Assert.Contains("skipped pi-e: made on another base", refused.Err);

            string outPath = dir.File("fleet.eab"), summaryPath = dir.File("round.json");
            var dry = await ExporterProcess.RunAsync(TimeSpan.FromSeconds(60), "fleet", "aggregate", "--group", Group, "--broker", broker.Url,
                "--key", fleetPem, "--device-keys", trustedC, "--device-keys", trustedE, "--dry-run", "--output", outPath, "--json", summaryPath);
            output.WriteLine(dry.Out + dry.Err);
            Assert.True(dry.Code == 0, dry.Err);
            using var summary = JsonDocument.Parse(await File.ReadAllBytesAsync(summaryPath));
            Assert.Equal(["pi-c"], summary.RootElement.GetProperty("contributions").EnumerateArray().Select(c => c.GetProperty("device").GetString()));
            Assert.Equal(["pi-d", "pi-e"], summary.RootElement.GetProperty("skipped").EnumerateArray().Select(c => c.GetProperty("device").GetString()).Order());
            Assert.False(summary.RootElement.GetProperty("published").GetBoolean());
            // One device: the average is that device's head, signed by the fleet key as the next release.
            using (var trusted = new TrustedKeySet([fleetKey.PublicKey]))
                Assert.Equal("1.0.1", ModelBundle.VerifyFile(outPath, trusted).Manifest.Version);

            // A dry run changes nothing on the broker: the fleet model is still the base, pi-c's delta is still there.
            await using var probe = await TestClient.ConnectAsync(broker, "probe");
            await probe.SubscribeAsync($"edgeagent/fleet/{Group}/+/manifest");
            await probe.SubscribeAsync($"edgeagent/fleet/{Group}/delta/+/manifest");
            var model = await probe.WaitForAsync(m => m.Topic == $"edgeagent/fleet/{Group}/model/manifest", TimeSpan.FromSeconds(10), "fleet model manifest");
            Assert.Equal(ModelBundle.Read(baseBytes).BundleSha256, TransferManifestJson.Parse(model.Payload.ToArray()).Sha256);
            await probe.WaitForAsync(m => m.Topic == $"edgeagent/fleet/{Group}/delta/pi-c/manifest", TimeSpan.FromSeconds(10), "pi-c's delta manifest");
        }
        finally
        {
            foreach (var device in devices) await device.DisposeAsync();
        }
    }
}
