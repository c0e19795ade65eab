using EdgeAgent.Compression.Bundles;
using EdgeAgent.Daemon.Learning;
using EdgeAgent.Daemon.Models;
using Xunit;

namespace EdgeAgent.Tests.Learning;

public class HeadUpdaterTests
{
    private static void AddSamples(LearningFixture f, int cls, string label, int count, bool heldOut, Random random)
    {
        for (int i = 0; i < count; i++) f.Reservoir.Add(f.Sample(cls, random), label, heldOut);
    }

    [Fact]
    public async Task ANewClassLearntFromCorrectLabelsBecomesTheServedVersion()
    {
        using var f = new LearningFixture();
        await f.ServeBaseModelAsync();
        var random = new Random(11);
        foreach (var (cls, label) in new[] { (0, "a"), (1, "b"), (2, "c") })
        {
            AddSamples(f, cls, label, 40, heldOut: false, random);
            AddSamples(f, cls, label, 15, heldOut: true, random);
        }
        var before = f.Host.Current!;
        Assert.Equal("b", f.Classify(f.Sample(1, random)));

        var outcome = await f.Updater().RunAsync("test", CancellationToken.None);

        Assert.True(outcome.Verdict == LearningVerdict.Accepted, outcome.Reason);
        var served = f.Host.Current!;
        Assert.Equal("1.0.1-device.1", served.Stored.Version);
        Assert.Equal("1.0.0", served.Stored.Parent);
        Assert.Equal("1.0.1-device.1", f.Store.GetCurrent("vibration")!.Version);
        Assert.NotSame(before.Engine, served.Engine);
        Assert.Equal(["a", "b", "c"], served.Descriptor.ClassNames);
        // The swapped-in engine runs the rewritten int8 graph: the new class is recognised, the old ones kept.
        var test = new Random(99);
        for (int cls = 0; cls < 3; cls++)
        {
            int right = Enumerable.Range(0, 30).Count(_ => f.Classify(f.Sample(cls, test)) == "abc"[cls].ToString());
            Assert.True(right >= 27, $"class {"abc"[cls]}: {right}/30 right after the update");
        }

        var e = Assert.Single(f.Published, p => p.Kind == LearningEvents.Accepted);
        var d = e.Data!;
        Assert.Equal("1.0.0", (string?)d["base_version"]);
        Assert.Equal("1.0.1-device.1", (string?)d["version"]);
        Assert.Equal(before.Stored.BundlePath, (string?)d["base_bundle"]);
        Assert.Equal(served.Stored.BundlePath, (string?)d["bundle"]);
        Assert.True(File.Exists((string)d["base_bundle"]!) && File.Exists((string)d["bundle"]!));
        Assert.Equal(40, (int)d["per_class"]!["c"]!);
        Assert.Equal("c", (string?)d["new_classes"]![0]);
        double accBefore = (double)d["accuracy"]!["before"]!, accAfter = (double)d["accuracy"]!["after"]!;
        Assert.True(accBefore < 0.7 && accAfter > 0.9, $"held-out accuracy {accBefore} → {accAfter}");

        // The new bundle: signed by the device key, grown head, the backbone and quantization layout kept.
        var bundle = ModelBundle.ReadFile(served.Stored.BundlePath);
        Assert.Equal(f.DeviceKey.KeyId, bundle.SignerKeyId);
        Assert.Equal("1.0.0", bundle.Manifest.ParentVersion);
        Assert.Equal([1L, 3L], bundle.Manifest.Outputs[0].Shape);
        var head = HeadModel.Load(served.Stored.BundlePath);
        Assert.Equal(3, head.Head.OutputSize);
        Assert.Equal("embedding", head.EmbeddingTensor);

        // A second update derives the next local version from this one.
        AddSamples(f, 2, "c", 5, heldOut: false, random);
        var second = await f.Updater().RunAsync("test", CancellationToken.None);
        if (second.Verdict == LearningVerdict.Accepted) Assert.Equal("1.0.1-device.2", f.Host.Current!.Stored.Version);
        else Assert.Equal(LearningVerdict.Rejected, second.Verdict);
    }

    [Fact]
    public async Task AnUpdateFromWrongLabelsIsRejectedAndTheServedModelIsUnchanged()
    {
        using var f = new LearningFixture();
        await f.ServeBaseModelAsync();
        var random = new Random(12);
        AddSamples(f, 0, "a", 20, heldOut: true, random);
        AddSamples(f, 1, "b", 20, heldOut: true, random);
        // A careless teacher swapped the labels of everything it taught since.
        AddSamples(f, 0, "b", 60, heldOut: false, random);
        AddSamples(f, 1, "a", 60, heldOut: false, random);
        var before = f.Host.Current!;

        var outcome = await f.Updater(new() { Epochs = 30, DistillationWeight = 0.2, AnchorWeight = 0.001 }).RunAsync("test", CancellationToken.None);

        Assert.Equal(LearningVerdict.Rejected, outcome.Verdict);
        Assert.Same(before, f.Host.Current);
        Assert.Equal("1.0.0", f.Store.GetCurrent("vibration")!.Version);
        Assert.Single(f.Store.List("vibration"));
        Assert.Equal("a", f.Classify(f.Sample(0, random)));
        var e = Assert.Single(f.Published, p => p.Kind == LearningEvents.Rejected);
        Assert.Null(e.Data!["version"]);
        double accBefore = (double)e.Data["accuracy"]!["before"]!, accAfter = (double)e.Data["accuracy"]!["after"]!;
        Assert.True(accAfter < accBefore, $"held-out accuracy {accBefore} → {accAfter}");
        Assert.Empty(Directory.Exists(f.StagingDirectory) ? Directory.GetFiles(f.StagingDirectory) : []);
    }

    [Fact]
    public void TheDeviceKeyIsTrustedOnlyForLocalVersionsOfInstalledParents()
    {
        using var f = new LearningFixture();
        using var dir = new Support.TempDirectory();
        var fleet = new SignedBundleVerifier([], requireSignature: true);
        var installed = new HashSet<string> { "1.0.0" };
        var verifier = new DeviceKeyBundleVerifier(fleet, f.DeviceKey.PublicKey, "vibration", (_, v) => installed.Contains(v));
        string Write(string name, string version, string? parent, Compression.Signing.BundleSigningKey key)
        {
            var manifest = new BundleManifest
            {
                Name = name, Version = version, ParentVersion = parent, ModelFormat = "onnx", ModelSha256 = "", ModelBytes = 0,
                Inputs = [new TensorSpec { Name = "x", ElementType = "float32", Shape = [1, 2] }],
                Outputs = [new TensorSpec { Name = "y", ElementType = "float32", Shape = [1, 2] }], CreatedUtc = "2026-01-01T00:00:00Z", Producer = "test",
            };
            string path = dir.File($"{name}-{version}-{Guid.NewGuid():N}.eab");
            File.WriteAllBytes(path, ModelBundle.Create(manifest, [1, 2, 3], key));
            return path;
        }

        Assert.True(verifier.Verify(Write("vibration", "1.0.1-device.1", "1.0.0", f.DeviceKey)).Ok);
        Assert.Contains("not installed", verifier.Verify(Write("vibration", "1.0.1-device.1", "0.9.0", f.DeviceKey)).Error);
        Assert.Contains("not a local version", verifier.Verify(Write("vibration", "2.0.0", "1.0.0", f.DeviceKey)).Error);
        Assert.Contains("another model", verifier.Verify(Write("other", "1.0.1-device.1", "1.0.0", f.DeviceKey)).Error);
        using var stranger = Compression.Signing.BundleSigningKey.Generate();
        Assert.False(verifier.Verify(Write("vibration", "1.0.1-device.1", "1.0.0", stranger)).Ok);
    }

    [Theory]
    [InlineData("1.2.0", "1.2.1-device.1")]
    [InlineData("1.2.1-device.1", "1.2.1-device.2")]
    [InlineData("1.2.1-device.9", "1.2.1-device.10")]
    [InlineData("2.0.0-rc.1", "2.0.1-device.1")]
    public void LocalVersionsSortAfterTheirParentAndBeforeTheNextRelease(string parent, string expected)
    {
        string next = LocalVersion.Next(parent);
        Assert.Equal(expected, next);
        Assert.True(ModelVersionComparer.Instance.Compare(next, parent) > 0);
        var v = Compression.Versioning.SemanticVersion.Parse(next);
        Assert.True(ModelVersionComparer.Instance.Compare($"{v.Major}.{v.Minor}.{v.Patch}", next) > 0);
    }
}
