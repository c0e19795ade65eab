using System.Buffers;
using System.Text.Json;
using EdgeAgent.Compression.Distribution;
using EdgeAgent.Daemon.Mqtt;
using Xunit;

namespace EdgeAgent.Tests.Mqtt;

public sealed class ModelSyncTests
{
    private const int FiveMegabytes = 5 * 1024 * 1024;

    private static JsonElement Json(MQTTnet.MqttApplicationMessage m) => JsonDocument.Parse(m.Payload.ToArray()).RootElement;

    private static bool IsEvent(MQTTnet.MqttApplicationMessage m, string type) =>
        m.Topic.EndsWith("/events") && Json(m).TryGetProperty("type", out var t) && t.GetString() == type;

    private static TransferPackager Package(byte[] bundle, string? name = "vibration", string? version = null) =>
        TransferPackager.FromBytes(bundle, describe: m => m with { Name = name, Version = version, Origin = "test" });

    private static async Task InstallInitialAsync(DeviceHarness device, TestBundles bundles, string version)
    {
        string path = Path.Combine(device.Directory, $"initial-{version}.bundle");
        await File.WriteAllBytesAsync(path, bundles.Create("vibration", version, 200_000, seed: 99));
        device.Store.Install(path, bundles.Verify(path));
    }

    [Fact]
    public async Task FiveMegabyteBundleDeploysAcrossABrokerRestartWithDuplicatedAndReorderedChunks()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var bundles = new TestBundles();
        await using var device = new DeviceHarness(broker, bundles, "ota-dev");
        await InstallInitialAsync(device, bundles, "1.0.0");
        byte[] bundle = bundles.Create("vibration", "2.0.0", FiveMegabytes);
        var package = Package(bundle, version: "2.0.0");
        string prefix = TransferTopics.DeviceModel("ota-dev");

        // Chunks retained in shuffled order, some twice, then the manifest.
        await using (var publisher = await TestClient.ConnectAsync(broker, "publisher"))
        {
            var random = new Random(5);
            var order = Enumerable.Range(0, package.Manifest.ChunkCount).OrderBy(_ => random.Next()).ToList();
            order.InsertRange(10, order.Take(15).ToList());
            foreach (int i in order) await publisher.PublishRetainedAsync(TransferTopics.Chunk(prefix, package.Manifest.Sha256, i), package.Chunk(i), default);
            await publisher.PublishRetainedAsync(TransferTopics.Manifest(prefix), TransferManifestJson.Serialize(package.Manifest), default);
        }

        // A third of the way in, the broker restarts; once it is back, every chunk arrives again live, newest first.
        int third = package.Manifest.ChunkCount / 3;
        var replayed = new TaskCompletionSource();
        Func<int, Task> hook = async received =>
        {
            if (received < third || broker.Restarts > 0) return;
            await broker.RestartAsync(TimeSpan.FromMilliseconds(300));
            _ = Task.Run(async () =>
            {
                await using var chaos = await TestClient.ConnectAsync(broker, "chaos");
                for (int i = package.Manifest.ChunkCount - 1; i >= 0; i--)
                    await chaos.PublishAsync(TransferTopics.Chunk(prefix, package.Manifest.Sha256, i), package.Chunk(i).ToArray());
                replayed.SetResult();
            });
        };
        await device.StartAsync(plane => plane.Models.ChunkStoredHook = hook);
        var installed = await device.WaitForModelAsync("2.0.0", TimeSpan.FromSeconds(60));
        Assert.Equal(package.Manifest.Sha256, installed.Sha256);
        Assert.Equal(1, broker.Restarts);
        Assert.True(device.Plane.Connection.Reconnects >= 1, "the device never reconnected, so the restart did not interrupt the transfer");
        Assert.Equal(1, device.Store.Installs - 1);
        Assert.Equal(bundle, await File.ReadAllBytesAsync(Path.Combine(device.Directory, "models", "vibration", "2.0.0", "model.bundle")));
        for (int i = 0; i < 100 && TransferAssembly.List(device.Options.TransferDirectory).Count > 0; i++) await Task.Delay(20);
        Assert.Empty(TransferAssembly.List(device.Options.TransferDirectory));
        await replayed.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task TransferResumesFromDiskAfterADeviceRestart()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var bundles = new TestBundles();
        await using var device = new DeviceHarness(broker, bundles, "resume-dev");
        await InstallInitialAsync(device, bundles, "1.0.0");
        var package = Package(bundles.Create("vibration", "1.1.0", 1_000_000), version: "1.1.0");
        // What an earlier run of the daemon left behind when it was killed: half the chunks on disk.
        using (var partial = TransferAssembly.OpenOrCreate(device.Options.TransferDirectory, package.Manifest))
            for (int i = 0; i < package.Manifest.ChunkCount; i += 2) partial.Accept(i, package.Chunk(i).Span);
        int held = (package.Manifest.ChunkCount + 1) / 2;

        await using var op = await TestClient.ConnectAsync(broker);
        await op.SubscribeAsync("edgeagent/resume-dev/events");
        await TransferPublisher.PublishAsync(op, TransferTopics.DeviceModel("resume-dev"), package, default);
        await device.StartAsync();
        await device.WaitForModelAsync("1.1.0", TimeSpan.FromSeconds(30));
        var started = Json(await op.WaitForAsync(m => IsEvent(m, "model/transfer-started"), what: "transfer-started"));
        Assert.Equal(held, started.GetProperty("resumed_chunks").GetInt32());
        var done = Json(await op.WaitForAsync(m => IsEvent(m, "model/installed"), what: "installed"));
        Assert.Equal("1.0.0", done.GetProperty("previous").GetProperty("version").GetString());
    }

    [Fact]
    public async Task TamperedChunkBadSignatureAndDowngradeAreRejectedWhileTheOldModelKeepsServing()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var bundles = new TestBundles();
        await using var device = new DeviceHarness(broker, bundles, "guard-dev");
        await InstallInitialAsync(device, bundles, "2.0.0");
        await device.StartAsync();
        await using var op = await TestClient.ConnectAsync(broker);
        await op.SubscribeAsync("edgeagent/guard-dev/events");
        await op.SubscribeAsync("edgeagent/guard-dev/reply/#");
        string prefix = TransferTopics.DeviceModel("guard-dev");
        string sha2 = device.Store.Current!.Sha256;

        async Task<JsonElement> Event(string type, Func<JsonElement, bool>? match = null) =>
            Json(await op.WaitForAsync(m => IsEvent(m, type) && (match?.Invoke(Json(m)) ?? true),
                what: type));

        // 1. A tampered chunk is refused on arrival; the model stays; the genuine chunk then completes the transfer.
        var v3 = Package(bundles.Create("vibration", "3.0.0", 600_000, seed: 3), version: "3.0.0");
        var bad = v3.Chunk(4).ToArray();
        bad[1000] ^= 0x40;
        for (int i = 0; i < v3.Manifest.ChunkCount; i++)
            await op.PublishRetainedAsync(TransferTopics.Chunk(prefix, v3.Manifest.Sha256, i), i == 4 ? bad : v3.Chunk(i), default);
        await op.PublishRetainedAsync(TransferTopics.Manifest(prefix), TransferManifestJson.Serialize(v3.Manifest), default);
        var rejectedChunk = await Event("model/chunk-rejected");
        Assert.Equal(4, rejectedChunk.GetProperty("index").GetInt32());
        await Task.Delay(300);
        Assert.Equal(sha2, device.Store.Current!.Sha256);
        await op.PublishRetainedAsync(TransferTopics.Chunk(prefix, v3.Manifest.Sha256, 4), v3.Chunk(4), default);
        await device.WaitForModelAsync("3.0.0", TimeSpan.FromSeconds(15));

        // 2. A bundle whose signature does not verify (hashes consistent, so only the signature can catch it).
        byte[] forged = bundles.Create("vibration", "4.0.0", 300_000, seed: 4);
        forged[^10] ^= 0x01;
        var v4 = Package(forged, version: "4.0.0");
        await TransferPublisher.PublishAsync(op, prefix, v4, default);
        var badSignature = await Event("model/rejected", e => e.GetProperty("sha256").GetString() == v4.Manifest.Sha256);
        Assert.Contains("signature check failed", badSignature.GetProperty("reason").GetString());
        Assert.Equal("3.0.0", device.Store.Current!.Version);

        // 3. A correctly signed downgrade, announced honestly: refused before download.
        var v1 = Package(bundles.Create("vibration", "1.0.0", 300_000, seed: 1), version: "1.0.0");
        await TransferPublisher.PublishAsync(op, prefix, v1, default);
        var downgrade = await Event("model/rejected", e => e.GetProperty("sha256").GetString() == v1.Manifest.Sha256);
        Assert.Contains("downgrade refused", downgrade.GetProperty("reason").GetString());

        // 4. The same downgrade with a manifest that hides its version: the signed version is checked after download.
        var hidden = Package(bundles.Create("vibration", "1.5.0", 300_000, seed: 15), version: null);
        await TransferPublisher.PublishAsync(op, prefix, hidden, default);
        var late = await Event("model/rejected", e => e.GetProperty("sha256").GetString() == hidden.Manifest.Sha256);
        Assert.Contains("downgrade refused: vibration 1.5.0", late.GetProperty("reason").GetString());
        Assert.Equal("3.0.0", device.Store.Current!.Version);
        Assert.Equal(2, device.Store.Installs); // the initial 2.0 and 3.0, nothing since

        // 5. An unsigned rollback to a version the store never had is refused; one to a stored version works.
        await op.PublishAsync("edgeagent/guard-dev/cmd/model/rollback", """{"id":"rb1","version":"0.5.0"}""");
        var refused = Json(await op.WaitForAsync(m => m.Topic.EndsWith("/reply/model/rollback") && Json(m).GetProperty("id").GetString() == "rb1", what: "rb1"));
        Assert.False(refused.GetProperty("ok").GetBoolean());
        Assert.Contains("'0.5.0' of 'vibration' is not in the store", refused.GetProperty("error").GetString());
        Assert.Equal("3.0.0", device.Store.Current!.Version);
        await op.PublishAsync("edgeagent/guard-dev/cmd/model/rollback", """{"id":"rb2","version":"2.0.0"}""");
        var rolled = Json(await op.WaitForAsync(m => m.Topic.EndsWith("/reply/model/rollback") && Json(m).GetProperty("id").GetString() == "rb2", what: "rb2"));
        Assert.True(rolled.GetProperty("ok").GetBoolean(), rolled.GetRawText());
        Assert.Equal("2.0.0", device.Store.Current!.Version);

        // 6. A rollback to a signed 1.0 that is not stored: publish it, then ask for it by hash through model/rollback.
        await TransferPublisher.PublishAsync(op, prefix, v1, default);
        await op.PublishAsync("edgeagent/guard-dev/cmd/model/rollback", $$"""{"id":"rb3","version":"1.0.0","sha256":"{{v1.Manifest.Sha256}}"}""");
        var accepted = Json(await op.WaitForAsync(m => m.Topic.EndsWith("/reply/model/rollback") && Json(m).GetProperty("id").GetString() == "rb3", what: "rb3"));
        Assert.True(accepted.GetProperty("ok").GetBoolean(), accepted.GetRawText());
        await device.WaitForModelAsync("1.0.0", TimeSpan.FromSeconds(15));
        Assert.True((await Event("model/installed", e => e.GetProperty("version").GetString() == "1.0.0")).GetProperty("downgrade").GetBoolean());
    }

    [Fact]
    public async Task PublisherClearsTheChunksOfTheBundleItReplaces()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var bundles = new TestBundles();
        await using var op = await TestClient.ConnectAsync(broker);
        string prefix = TransferTopics.FleetModel("line-1");
        var first = Package(bundles.Create("vibration", "1.0.0", 200_000, seed: 1), version: "1.0.0");
        var second = Package(bundles.Create("vibration", "1.1.0", 200_000, seed: 2), version: "1.1.0");
        Assert.Null(await TransferPublisher.PublishAsync(op, prefix, first, default));
        Assert.Equal(first.Manifest.Sha256, (await TransferPublisher.PublishAsync(op, prefix, second, default))!.Sha256);
        await using var probe = await TestClient.ConnectAsync(broker, "probe");
        await probe.SubscribeAsync(prefix + "/#");
        await probe.WaitForAsync(m => m.Topic == TransferTopics.Manifest(prefix), what: "manifest");
        await Task.Delay(300);
        var retained = probe.Received.Where(m => m.Retain).Select(m => m.Topic).ToList();
        Assert.Equal(second.Manifest.ChunkCount + 1, retained.Count);
        Assert.DoesNotContain(retained, t => t.Contains(first.Manifest.Sha256));
    }
}
