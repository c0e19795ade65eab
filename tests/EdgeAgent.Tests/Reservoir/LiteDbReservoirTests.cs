using EdgeAgent.Daemon.Reservoir;
using EdgeAgent.Tests.Support;
using Xunit;

namespace EdgeAgent.Tests.Reservoir;

public class LiteDbReservoirTests
{
    private static ReservoirOffer OfferAt(int i, string prediction = "normal") =>
        new(DateTimeOffset.UnixEpoch.AddSeconds(i), DateTimeOffset.UnixEpoch.AddSeconds(i + 1), "1.0", 2, prediction, 0.8f);

    private static void Offer(LiteDbReservoir r, int i, string prediction = "normal")
    {
        float[] window = [i, i, i, i];
        float[] embedding = [i];
        r.Offer(OfferAt(i, prediction), window, embedding);
    }

    [Fact]
    public void KeepsEverythingUntilFullThenStaysAtCapacity()
    {
        using var dir = new TempDirectory();
        using var r = new LiteDbReservoir(new ReservoirSettings(dir.File("r.db"), 50, 20, 0.1, 64L << 20));
        for (int i = 0; i < 50; i++) Offer(r, i);
        r.Flush();
        Assert.Equal(50, r.GetStats().Unlabelled);
        for (int i = 50; i < 1000; i++) Offer(r, i);
        r.Flush();
        var stats = r.GetStats();
        Assert.Equal(50, stats.Unlabelled);
        Assert.Equal(1000, stats.Seen);
        Assert.Empty(r.CheckConsistency());
    }

    [Fact]
    public void AlgorithmRKeepsEveryWindowWithEqualProbability()
    {
        // Over many independent runs, early and late windows must be equally likely to survive (k/n each).
        const int capacity = 20, stream = 200, runs = 60;
        var survivals = new int[stream];
        using var dir = new TempDirectory();
        for (int run = 0; run < runs; run++)
        {
            using var r = new LiteDbReservoir(new ReservoirSettings(dir.File($"r{run}.db"), capacity, 10, 0, 64L << 20, Seed: run));
            for (int i = 0; i < stream; i++)
            {
                Offer(r, i);
                r.Flush(); // the daemon's writer drains continuously; a full write queue would drop late windows
            }
            foreach (var s in r.ReadUnlabelled()) survivals[(int)s.Window[0]]++;
        }
        double expected = runs * (double)capacity / stream; // 6 per window
        double firstHalf = survivals.Take(stream / 2).Average();
        double secondHalf = survivals.Skip(stream / 2).Average();
        Assert.Equal(expected, firstHalf, 1.0);
        Assert.Equal(expected, secondHalf, 1.0);
    }

    [Fact]
    public void LabelledSamplesStayClassBalancedWhenOneClassFloods()
    {
        using var dir = new TempDirectory();
        using var r = new LiteDbReservoir(new ReservoirSettings(dir.File("r.db"), 10, 30, 0, 64L << 20));
        for (int i = 0; i < 5; i++) { Offer(r, i); r.LabelLatest("rare"); }
        for (int i = 0; i < 200; i++) { Offer(r, 100 + i); r.LabelLatest("common"); }
        for (int i = 0; i < 10; i++) { Offer(r, 400 + i); r.LabelLatest("new"); }
        var perClass = r.GetStats().PerClass;
        Assert.Equal(30, perClass.Values.Sum());
        Assert.Equal(5, perClass["rare"]);   // never evicted: it was never the largest class
        Assert.Equal(10, perClass["new"]);
        Assert.Equal(15, perClass["common"]);
        Assert.Empty(r.CheckConsistency());
    }

    [Fact]
    public void HeldOutSliceIsKeptPerClass()
    {
        using var dir = new TempDirectory();
        using var r = new LiteDbReservoir(new ReservoirSettings(dir.File("r.db"), 10, 100, 0.2, 64L << 20));
        foreach (var label in new[] { "a", "b" })
            for (int i = 0; i < 20; i++) { Offer(r, i); r.LabelLatest(label); }
        var heldOut = r.ReadLabelled(heldOut: true);
        var train = r.ReadLabelled(heldOut: false);
        Assert.Equal(40, heldOut.Count + train.Count);
        Assert.Equal(4, heldOut.Count(s => s.Label == "a"));
        Assert.Equal(4, heldOut.Count(s => s.Label == "b"));
        Assert.All(heldOut, s => Assert.True(s.HeldOut));
    }

    [Fact]
    public void LabellingByIdMovesAStoredWindowAndPersistsAcrossReopen()
    {
        using var dir = new TempDirectory();
        string path = dir.File("r.db");
        long id;
        using (var r = new LiteDbReservoir(new ReservoirSettings(path, 10, 10, 0, 64L << 20)))
        {
            for (int i = 0; i < 5; i++) Offer(r, i);
            r.Flush();
            var stored = r.ReadUnlabelled();
            id = stored.Single(s => s.Window[0] == 3).Id;
            Assert.True(r.Label(id, "imbalance"));
            Assert.False(r.Label(999_999, "imbalance"));
            Assert.Equal(1, r.LabelsAdded);
        }
        using (var r = new LiteDbReservoir(new ReservoirSettings(path, 10, 10, 0, 64L << 20)))
        {
            var stats = r.GetStats();
            Assert.Equal(4, stats.Unlabelled);
            Assert.Equal(1, stats.PerClass["imbalance"]);
            var sample = r.ReadLabelled(false).Single();
            Assert.Equal(id, sample.Id);
            Assert.Equal([3f, 3, 3, 3], sample.Window);
            Assert.Equal("1.0", sample.ModelVersion);
            Assert.Equal(DateTimeOffset.UnixEpoch.AddSeconds(3), sample.WindowStart);
            Assert.Equal(5, stats.Seen);
            Assert.Empty(r.CheckConsistency());
        }
    }

    [Fact]
    public void UnlabelledEmbeddingsAreStoredAsFloat16ExceptWhatFloat16CannotHold()
    {
        using var dir = new TempDirectory();
        string path = dir.File("r.db");
        var embedding = new float[512];
        for (int k = 0; k < embedding.Length; k++) embedding[k] = MathF.Sin(k * 0.37f) * 40 + k * 0.01f;
        float[] huge = [1f, 70_000f, -3f];
        using (var r = new LiteDbReservoir(new ReservoirSettings(path, 10, 10, 0, 64L << 20)))
        {
            r.Offer(OfferAt(1), [1, 1, 1, 1], embedding);
            r.Offer(OfferAt(2), [2, 2, 2, 2], huge);
            r.Flush();
            var stats = r.GetStats();
            Assert.Equal(2, stats.Writes);
            Assert.True(stats.WriteAllocatedBytes > 0, "the writer's allocation is counted");
        }
        using (var r = new LiteDbReservoir(new ReservoirSettings(path, 10, 10, 0, 64L << 20)))
        {
            var stored = r.ReadUnlabelled().ToDictionary(s => (int)s.Window[0]);
            Assert.Equal(embedding.Length, stored[1].Embedding.Length);
            for (int k = 0; k < embedding.Length; k++)
                Assert.True(Math.Abs(stored[1].Embedding[k] - embedding[k]) <= Math.Abs(embedding[k]) / 1024 + 1e-6,
                    $"embedding[{k}] {embedding[k]} read back as {stored[1].Embedding[k]}: beyond float16's rounding");
            Assert.Equal(huge, stored[2].Embedding); // beyond float16's range: stored as float32, exactly
            Assert.Empty(r.CheckConsistency());
            // A stored float16 sample that is labelled keeps its encoding and still reads back.
            Assert.True(r.Label(stored[1].Id, "imbalance"));
            Assert.Equal(stored[1].Embedding, r.ReadLabelled(false).Single().Embedding);
            Assert.Empty(r.CheckConsistency());
        }
        // Ten windows whose embeddings float16 holds take less disk than ten whose embeddings it cannot hold.
        Assert.True(DiskBytesOfTen(dir.File("f32.db"), embedding.Select(v => v * 10_000).ToArray()) > DiskBytesOfTen(dir.File("f16.db"), embedding) + 4096);
    }

    private static long DiskBytesOfTen(string path, float[] embedding)
    {
        using (var r = new LiteDbReservoir(new ReservoirSettings(path, 10, 10, 0, 64L << 20)))
        {
            for (int i = 0; i < 10; i++) r.Offer(OfferAt(i), [i, i, i, i], embedding);
            r.Flush();
        }
        return new FileInfo(path).Length; // checkpointed on dispose: the data file holds everything
    }

    [Fact]
    public void LabellingBeforeAnyWindowIsAClearError()
    {
        using var dir = new TempDirectory();
        using var r = new LiteDbReservoir(new ReservoirSettings(dir.File("r.db"), 10, 10, 0, 64L << 20));
        Assert.Contains("no window", Assert.Throws<InvalidOperationException>(() => r.LabelLatest("x")).Message);
    }

    [Fact]
    public void TheDiskQuotaStopsGrowth()
    {
        using var dir = new TempDirectory();
        // 64 KB quota, 4 KB windows: the file reaches the quota long before 1000 samples.
        using var r = new LiteDbReservoir(new ReservoirSettings(dir.File("r.db"), 1000, 10, 0, 64 << 10));
        var window = new float[1024];
        for (int i = 0; i < 1000; i++)
        {
            r.Offer(OfferAt(i), window, [1f]);
            r.Flush();
        }
        var stats = r.GetStats();
        Assert.True(stats.Unlabelled < 1000, $"{stats.Unlabelled} samples stored despite the quota");
        Assert.True(stats.Dropped > 0);
        Assert.True(stats.SizeBytes < 4 * (64 << 10), $"{stats.SizeBytes} bytes on disk");
    }

    [Fact]
    public void OfferDoesNotAllocateOnceTheReservoirRarelyKeeps()
    {
        using var dir = new TempDirectory();
        using var r = new LiteDbReservoir(new ReservoirSettings(dir.File("r.db"), 10, 10, 0, 64L << 20));
        var window = new float[384];
        var embedding = new float[16];
        var offer = OfferAt(0);
        for (int i = 0; i < 100_000; i++) r.Offer(offer, window, embedding); // now keeps with p = 1e-4
        r.Flush();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) r.Offer(offer, window, embedding);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // Expected kept: 1000 x 10/100000 = 0.1 windows; allow one kept window's copies (~1.7 KB).
        Assert.True(allocated < 4096, $"{allocated} bytes for 1000 offers");
    }

    [Fact]
    public void AfterARestartOnAFullReservoirTheFirstKeptWindowAllocatesNothingOnTheInferenceThread()
    {
        using var dir = new TempDirectory();
        var settings = new ReservoirSettings(dir.File("r.db"), 10, 10, 0, 64L << 20);
        var window = new float[384];
        var embedding = new float[16];
        var offer = OfferAt(0);
        using (var aged = new LiteDbReservoir(settings))
            for (int i = 0; i < 1000; i++) aged.Offer(offer, window, embedding);
        using var r = new LiteDbReservoir(settings); // keeps 1 window in 100
        r.Offer(offer, window, embedding); // start-up: the first offer of this shape
        Assert.Equal(1, r.PendingSamplesCreated);
        long before = GC.GetAllocatedBytesForCurrentThread();
        int offers = 0;
        // Offers until one is kept (queued for the writer, which this test does not run), as in steady state.
        while (r.Flush() == 0 && offers < 100_000)
        {
            r.Offer(offer, window, embedding);
            offers++;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(1, r.PendingSamplesCreated);
        Assert.True(r.GetStats().Writes >= 1, "no window was kept");
        // Flush (the writer's work) ran on this thread too: count only what the offers allocated.
        Assert.True(allocated - r.GetStats().WriteAllocatedBytes < 1024, $"{allocated} bytes over {offers} offers, {r.GetStats().WriteAllocatedBytes} of them LiteDB's write");
    }
}
