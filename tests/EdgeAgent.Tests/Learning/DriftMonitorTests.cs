using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Learning;
using EdgeAgent.Tests.Support;
using Xunit;

namespace EdgeAgent.Tests.Learning;

public class DriftMonitorTests
{
    private const int Width = 6;

    private static LearningOptions Options() => new()
    {
        DriftThreshold = 0.25, DriftReferenceWindows = 300, DriftRecentWindows = 150, DriftIntervalSeconds = 1,
    };

    /// <summary>Feeds <paramref name="count"/> windows whose embeddings are N(shift, scale²) per feature and whose top score is in [0.6, 1).</summary>
    private static void Feed(DriftMonitor monitor, string version, int count, Random random, float shift = 0, float scale = 1)
    {
        var embedding = new float[Width];
        var scores = new float[3];
        for (int n = 0; n < count; n++)
        {
            for (int i = 0; i < Width; i++) embedding[i] = shift + scale * Gaussian(random);
            scores[0] = 0.6f + 0.4f * (float)random.NextDouble();
            scores[1] = scores[2] = (1 - scores[0]) / 2;
            monitor.Observe("vibration", version, embedding, scores);
        }
    }

    private static float Gaussian(Random random) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));

    [Fact]
    public void ShiftedEmbeddingsRaiseDetectedOnceThenClearedAndStatusReportsPsi()
    {
        var events = new RecordingSink();
        var monitor = new DriftMonitor(Options(), events, TimeProvider.System, referencePath: null);
        var random = new Random(11);

        Feed(monitor, "1.0.0", 299, random);
        Assert.Null(monitor.Check());
        Assert.Equal("collecting reference", (string?)monitor.Status()["state"]);
        Feed(monitor, "1.0.0", 1, random);
        Assert.Null(monitor.Check()); // fits the reference
        Assert.Equal(300, (int)monitor.Status()["reference_windows"]!);

        Feed(monitor, "1.0.0", 150, random);
        var same = monitor.Check()!;
        Assert.True(same.MeanPsi < 0.1, $"same distribution: PSI {same.MeanPsi:F3}");
        Assert.False(monitor.Drifting);
        Assert.Empty(events.Snapshot());
        Assert.Equal("monitoring", (string?)monitor.Status()["state"]);

        Feed(monitor, "1.0.0", 150, random, shift: 1.5f, scale: 2f);
        var shifted = monitor.Check()!;
        Assert.True(shifted.MeanPsi >= 0.25, $"shifted embeddings: PSI {shifted.MeanPsi:F3}");
        Assert.True(monitor.Drifting);
        var detected = Assert.Single(events.Snapshot());
        Assert.Equal(DriftMonitor.Detected, detected.Kind);
        Assert.Contains("vibration", detected.Message);
        Assert.Equal(Math.Round(shifted.MeanPsi, 4), (double)detected.Data!["psi"]!);
        Assert.StartsWith("embedding[", (string?)detected.Data["max_feature"]);

        var status = monitor.Status();
        Assert.True((bool)status["drifting"]!);
        Assert.Equal(Math.Round(shifted.MeanPsi, 4), (double)status["psi"]!);
        Assert.Equal("1.0.0", (string?)status["reference_version"]);

        monitor.Check(); // still drifting: no second event
        Assert.Single(events.Snapshot());

        Feed(monitor, "1.0.0", 150, random);
        Assert.True(monitor.Check()!.MeanPsi < 0.25);
        Assert.False(monitor.Drifting);
        Assert.Equal([DriftMonitor.Detected, DriftMonitor.Cleared], events.Snapshot().Select(e => e.Kind));
    }

    [Fact]
    public void StatusIsWrittenWithoutAllocatingAndReadsBackAsTheStatusObject()
    {
        // The daemon writes this into its retained status every minute for as long as it runs: no nodes, strings or
        // boxes once the monitor measures (a JsonObject per status was ~3.4 KB a minute).
        var monitor = new DriftMonitor(Options(), new RecordingSink(), TimeProvider.System, referencePath: null);
        var random = new Random(5);
        Feed(monitor, "1.0.0", 300, random);
        monitor.Check();
        Feed(monitor, "1.0.0", 150, random, shift: 1.5f, scale: 2f);
        Assert.True(monitor.Check()!.MeanPsi >= 0.25);

        var buffer = new System.Buffers.ArrayBufferWriter<byte>(4096);
        using var writer = new System.Text.Json.Utf8JsonWriter(buffer);
        void WriteOnce()
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            monitor.Snapshot().Write(writer);
            writer.Flush();
        }
        WriteOnce();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 20; i++) WriteOnce();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        var written = System.Text.Json.Nodes.JsonNode.Parse(buffer.WrittenSpan)!.AsObject();
        Assert.Equal(monitor.Status().ToJsonString(), written.ToJsonString());
        Assert.Equal("monitoring", (string?)written["state"]);
        Assert.True((bool)written["drifting"]!);
        Assert.Equal("significant", (string?)written["level"]);
        Assert.Matches(@"^(embedding\[\d+\]|top score)$", (string?)written["max_feature"]);
        Assert.True(DateTimeOffset.TryParse((string?)written["checked_at"], out _));
        Assert.Equal(150, (int)written["windows"]!);
    }

    [Fact]
    public void WideEmbeddingIsMonitoredOnEvenlySpacedFeaturesNamedByTheirIndex()
    {
        // 1000 features: stride 4, so 250 are followed; only feature 600 (followed) drifts, and 601 (not followed) too.
        const int wide = 1000;
        var events = new RecordingSink();
        var monitor = new DriftMonitor(Options(), events, TimeProvider.System, referencePath: null);
        var random = new Random(5);
        var embedding = new float[wide];
        var scores = new float[] { 0.8f, 0.1f, 0.1f };
        void FeedWide(int count, float shiftOf600And601)
        {
            for (int n = 0; n < count; n++)
            {
                for (int i = 0; i < wide; i++) embedding[i] = Gaussian(random);
                embedding[600] += shiftOf600And601;
                embedding[601] += shiftOf600And601;
                monitor.Observe("vibration", "1.0.0", embedding, scores);
            }
        }
        FeedWide(300, 0);
        Assert.Null(monitor.Check());
        FeedWide(150, 0);
        var same = monitor.Check()!;
        Assert.Equal(251, same.PerFeature.Length); // ceil(1000 / 256) = stride 4: 250 followed + the top score
        FeedWide(150, 5f);
        var shifted = monitor.Check()!;
        Assert.Equal(150, shifted.MaxFeature); // 600 / stride 4
        Assert.True(shifted.MaxPsi > 1, $"PSI of the shifted feature {shifted.MaxPsi:F3}");
        Assert.Equal("embedding[600]", (string?)monitor.Status()["max_feature"]);
    }

    [Fact]
    public void ScoreOnlyDriftIsSeenOnTheTopScoreFeature()
    {
        var events = new RecordingSink();
        var monitor = new DriftMonitor(Options(), events, TimeProvider.System, referencePath: null);
        var random = new Random(5);
        Feed(monitor, "1.0.0", 300, random);
        monitor.Check();
        var embedding = new float[Width];
        for (int n = 0; n < 150; n++)
        {
            for (int i = 0; i < Width; i++) embedding[i] = Gaussian(random);
            float top = 0.2f + 0.1f * (float)random.NextDouble(); // the model became unsure
            monitor.Observe("vibration", "1.0.0", embedding, [top, top - 0.05f]);
        }
        var report = monitor.Check()!;
        Assert.Equal(Width, report.MaxFeature);
        Assert.True(report.PerFeature[Width] > 1, $"top-score PSI {report.PerFeature[Width]:F3}");
        Assert.Equal("top score", (string?)monitor.Status()["max_feature"]);
    }

    [Fact]
    public void ReferenceSurvivesRestartAndLocalVersionsButNotAFleetVersion()
    {
        using var dir = new TempDirectory();
        string path = dir.File("learning/drift-reference.json");
        var random = new Random(3);
        var first = new DriftMonitor(Options(), new RecordingSink(), TimeProvider.System, path);
        Feed(first, "1.0.0", 300, random);
        first.Check();
        Assert.True(File.Exists(path));

        // After a restart, the device-learnt version reuses its ancestor's reference and is judged at once.
        var events = new RecordingSink();
        var second = new DriftMonitor(Options(), events, TimeProvider.System, path);
        Feed(second, "1.0.1-device.1", 150, random, shift: 2f);
        var status = second.Status();
        Assert.Equal("1.0.0", (string?)status["reference_version"]);
        Assert.True((bool)status["reference_from_disk"]!);
        Assert.True(second.Check()!.MeanPsi >= 0.25);
        Assert.Equal(DriftMonitor.Detected, Assert.Single(events.Snapshot()).Kind);

        // A fleet release has a new backbone: a new reference is collected, the drift state starts over.
        Feed(second, "1.1.0", 10, random);
        status = second.Status();
        Assert.Equal("collecting reference", (string?)status["state"]);
        Assert.Equal("1.1.0", (string?)status["reference_version"]);
        Assert.False(second.Drifting);
        Assert.Null(second.Check());
    }

    [Fact]
    public void CorruptReferenceFileIsReportedAndRecaptured()
    {
        using var dir = new TempDirectory();
        string path = dir.File("drift-reference.json");
        File.WriteAllText(path, "{\"model\":\"vibration\",\"version\":\"1.0.0\",\"features\":7,\"windows\":300,\"edges\":[[1,2]],\"expected\":[[0.3,0.3,0.4]]}");
        var monitor = new DriftMonitor(Options(), new RecordingSink(), TimeProvider.System, path);
        Feed(monitor, "1.0.0", 5, new Random(1));
        var status = monitor.Status();
        Assert.Contains(path, (string?)status["error"]);
        Assert.Contains("'features' is 7", (string?)status["error"]);
        Assert.Equal("collecting reference", (string?)status["state"]);
    }

    [Fact]
    public void InvalidOptionsNameTheKey()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            new DriftMonitor(new LearningOptions { DriftThreshold = 0 }, new RecordingSink(), TimeProvider.System, null));
        Assert.Contains("learning:driftThreshold", error.Message);
    }
}
