using System.Buffers;
using System.Text.Json;
using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Deltas;
using EdgeAgent.Compression.Distribution;
using EdgeAgent.Compression.Signing;
using Xunit;
using Xunit.Abstractions;

namespace EdgeAgent.Tests.Mqtt;

public sealed class DeltaPublishingTests(ITestOutputHelper output)
{
    private const string Group = "line-1";

    private static DeviceHarness Device(MosquittoBroker broker, TestBundles bundles, string id) =>
        new(broker, bundles, id, configure: o =>
        {
            o.FleetGroups = [Group];
            o.DeltaDirectory = Path.Combine(o.TransferDirectory, "..", "deltas");
            o.DeltaSigningKeyFile = Path.Combine(o.TransferDirectory, "..", "device-key.pem");
        });

    /// <summary>Reads a retained transfer (manifest + chunks) back from the broker, checking every chunk's hash.</summary>
    internal static async Task<(TransferManifest Manifest, byte[] File)> FetchTransferAsync(MosquittoBroker broker, string prefix)
    {
        await using var reader = await TestClient.ConnectAsync(broker, "reader");
        var manifestBytes = await reader.ReadRetainedAsync(TransferTopics.Manifest(prefix), default) ?? throw new Xunit.Sdk.XunitException($"no retained manifest at {prefix}");
        var manifest = TransferManifestJson.Parse(manifestBytes);
        await reader.SubscribeAsync(TransferTopics.ChunkFilter(prefix, manifest.Sha256));
        var file = new byte[manifest.Bytes];
        for (int i = 0; i < manifest.ChunkCount; i++)
        {
            string topic = TransferTopics.Chunk(prefix, manifest.Sha256, i);
            var chunk = (await reader.WaitForAsync(m => m.Topic == topic, TimeSpan.FromSeconds(10), topic)).Payload.ToArray();
            Assert.Equal(manifest.Chunks[i], Hex.Sha256(chunk));
            chunk.CopyTo(file, (long)i * manifest.ChunkBytes);
        }
        Assert.Equal(manifest.Sha256, Hex.Sha256(file));
        return (manifest, file);
    }

    [Fact]
    public async Task HeadOnlyUpdatePublishesASignedDeltaBoundToTheBaseAtMostFivePercentOfTheBundle()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        using var bundles = new TestBundles();
        await using var device = Device(broker, bundles, "pi-a");
        await device.StartAsync(TimeSpan.FromSeconds(10));
        await using var listener = await TestClient.ConnectAsync(broker, "listener");
        await listener.SubscribeAsync(device.Plane.Connection.Topics.Events);

        byte[] baseBytes = FleetModels.BaseBundle(bundles.Key);
        byte[] updatedBytes = FleetModels.UpdateHead(baseBytes, "1.0.1-local.1", seed: 1, bundles.Key);
        string basePath = Path.Combine(device.Directory, "base.eab"), updatedPath = Path.Combine(device.Directory, "updated.eab");
        await File.WriteAllBytesAsync(basePath, baseBytes);
        await File.WriteAllBytesAsync(updatedPath, updatedBytes);
        var counts = new Dictionary<string, long> { ["c1"] = 40, ["c7"] = 24 };

        var publication = await device.Plane.Deltas.PublishAsync(basePath, updatedPath, counts);
        Assert.True(publication.Sent);

        var (manifest, file) = await FetchTransferAsync(broker, TransferTopics.FleetDelta(Group, "pi-a"));
        var baseBundle = ModelBundle.Read(baseBytes);
        Assert.Equal(TransferKinds.Delta, manifest.Kind);
        Assert.Equal(baseBundle.BundleSha256, manifest.BaseSha256);
        Assert.Equal(64, manifest.Samples);
        Assert.Equal("1.0.1-local.1", manifest.Version);

        // Signed by the device's own key (generated on first use, public half beside it for the aggregator).
        using var deviceKeys = TrustedKeySet.FromFiles([device.Options.DeltaSigningKeyFile + ".pub"]);
        var delta = WeightDelta.Verify(file, deviceKeys);
        using (var other = new TrustedKeySet()) Assert.Throws<BundleSignatureException>(() => WeightDelta.Verify(file, other));
        Assert.Equal(baseBundle.Manifest.ModelSha256, delta.Metadata.BaseModelSha256);
        Assert.Equal("1.0.0", delta.Metadata.BaseVersion);
        Assert.Equal(counts, delta.Metadata.ClassSamples);
        Assert.Equal("pi-a", delta.Metadata.Producer);

        // Applied to the base it reproduces the updated head exactly; applied to another base it is refused.
        var rebuilt = delta.Apply(BundleWeights.ReadTrainable(baseBundle), baseBundle.Manifest.ModelSha256).ToDictionary(t => t.Name);
        foreach (var t in BundleWeights.ReadTrainable(ModelBundle.Read(updatedBytes))) Assert.Equal(t.Data, rebuilt[t.Name].Data);
        Assert.Throws<BundleFormatException>(() => delta.Apply(BundleWeights.ReadTrainable(baseBundle), new string('0', 64)));

        double ratio = (double)file.Length / updatedBytes.Length;
        output.WriteLine($"bundle {updatedBytes.Length} bytes, delta {file.Length} bytes ({ratio:P2}), {delta.ChangedElements} changed elements");
        Assert.True(ratio <= 0.05, $"delta is {file.Length} bytes, {ratio:P2} of the {updatedBytes.Length}-byte bundle");
        Assert.True(delta.ChangedElements > 1000, "the update should have moved most head weights");

        var evt = await listener.WaitForAsync(m => TestClient.Text(m).Contains("\"learn/delta-published\""), what: "learn/delta-published");
        using var json = JsonDocument.Parse(evt.Payload.ToArray());
        Assert.Equal(file.Length, json.RootElement.GetProperty("delta_bytes").GetInt64());
        Assert.True(json.RootElement.GetProperty("sent").GetBoolean());
    }

    [Fact]
    public async Task DeltaMadeOfflineIsSentOnReconnectAndReplacesThePreviousOne()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        using var bundles = new TestBundles();
        await using var device = Device(broker, bundles, "pi-b");
        await device.StartAsync(TimeSpan.FromSeconds(10));
        byte[] baseBytes = FleetModels.BaseBundle(bundles.Key);
        string basePath = Path.Combine(device.Directory, "base.eab");
        await File.WriteAllBytesAsync(basePath, baseBytes);
        string first = Path.Combine(device.Directory, "u1.eab"), second = Path.Combine(device.Directory, "u2.eab");
        await File.WriteAllBytesAsync(first, FleetModels.UpdateHead(baseBytes, "1.0.1-local.1", seed: 2, bundles.Key));
        await File.WriteAllBytesAsync(second, FleetModels.UpdateHead(baseBytes, "1.0.1-local.2", seed: 3, bundles.Key));
        string prefix = TransferTopics.FleetDelta(Group, "pi-b");

        var p1 = await device.Plane.Deltas.PublishAsync(basePath, first, new Dictionary<string, long> { ["c0"] = 10 });
        Assert.True(p1.Sent);

        await broker.StopAsync();
        for (int i = 0; i < 200 && device.Plane.Connection.IsConnected; i++) await Task.Delay(20);
        var p2 = await device.Plane.Deltas.PublishAsync(basePath, second, new Dictionary<string, long> { ["c0"] = 10, ["c3"] = 5 });
        Assert.False(p2.Sent);
        await broker.RestartAsync();
        await device.Plane.Connection.WaitConnectedAsync(TimeSpan.FromSeconds(20));

        TransferManifest? manifest = null;
        for (int i = 0; i < 100 && manifest?.Sha256 != p2.Sha256; i++)
        {
            await using var probe = await TestClient.ConnectAsync(broker, "probe");
            var bytes = await probe.ReadRetainedAsync(TransferTopics.Manifest(prefix), default);
            manifest = bytes is null ? null : TransferManifestJson.Parse(bytes);
            if (manifest?.Sha256 != p2.Sha256) await Task.Delay(100);
        }
        Assert.Equal(p2.Sha256, manifest?.Sha256);
        Assert.Equal(15, manifest!.Samples);
        // The first delta's chunk was cleared: nothing retained under its hash any more.
        await using var check = await TestClient.ConnectAsync(broker, "check");
        Assert.Null(await check.ReadRetainedAsync(TransferTopics.Chunk(prefix, p1.Sha256, 0), default));
    }
}
