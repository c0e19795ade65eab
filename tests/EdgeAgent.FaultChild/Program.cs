using EdgeAgent.Daemon.Models;
using EdgeAgent.Daemon.Reservoir;

namespace EdgeAgent.FaultChild;

/// <summary>
/// <c>reservoir-writer DB SEED</c>: offers windows and labels some, writing each synchronously, forever.
/// <c>model-swapper ROOT SEED</c>: installs and activates ever newer model versions (keep 3), forever.
/// Both print "ready" once the first durable write is done, so the parent knows there is something to keep.
/// <c>reservoir-age DB CAPACITY SEEN WINDOW_FLOATS CHANNELS EMBEDDING_WIDTH MODEL_VERSION</c> (not a crash test: the
/// daemon benchmark's preparation) offers windows to the reservoir at DB until it has seen SEEN of them, through the
/// daemon's own <see cref="LiteDbReservoir"/> and its Algorithm R, writing every window it keeps, so that the
/// database is what a device that has run that long leaves: full, with admission probability CAPACITY/SEEN.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args is ["reservoir-writer", var db, var seed]) return WriteReservoir(db, int.Parse(seed));
        if (args is ["model-swapper", var root, var swapSeed]) return SwapModels(root, int.Parse(swapSeed));
        if (args is ["reservoir-age", var aged, var capacity, var seen, var windowFloats, var channels, var width, var version])
            return AgeReservoir(aged, int.Parse(capacity), long.Parse(seen), int.Parse(windowFloats), int.Parse(channels), int.Parse(width), version);
        Console.Error.WriteLine("usage: reservoir-writer DB SEED | model-swapper ROOT SEED | reservoir-age DB CAPACITY SEEN WINDOW_FLOATS CHANNELS EMBEDDING_WIDTH MODEL_VERSION");
        return 2;
    }

    private static int WriteReservoir(string path, int seed)
    {
        using var reservoir = new LiteDbReservoir(new ReservoirSettings(path, Capacity: 40, LabelledCapacity: 30, HeldOutFraction: 0.2, QuotaBytes: 64L << 20, Seed: seed));
        var random = new Random(seed);
        var window = new float[96];
        var embedding = new float[8];
        string[] classes = ["idle", "normal", "imbalance"];
        bool announced = false;
        for (long i = 0; ; i++)
        {
            for (int k = 0; k < window.Length; k++) window[k] = (float)random.NextDouble();
            for (int k = 0; k < embedding.Length; k++) embedding[k] = (float)random.NextDouble();
            var now = DateTimeOffset.UtcNow;
            reservoir.Offer(new ReservoirOffer(now.AddMilliseconds(-64), now, "1.0", 3, "normal", 0.9f), window, embedding);
            // An unlabelled write carries no meta document: once it returned, its Algorithm R count is what a restart must
            // recover at least (the fault test). A labelled one may keep nothing (class balance), so it is not reported.
            bool wrote = reservoir.Flush() > 0;
            long committed = reservoir.Seen;
            if (i % 3 == 0) reservoir.LabelLatest(classes[random.Next(classes.Length)]);
            if (!announced)
            {
                Console.Out.WriteLine("ready");
                announced = true;
            }
            if (wrote) Console.Out.WriteLine($"committed {committed}");
            Console.Out.Flush();
        }
    }

    private static int AgeReservoir(string path, int capacity, long seen, int windowFloats, int channels, int width, string version)
    {
        using var reservoir = new LiteDbReservoir(new ReservoirSettings(path, capacity, LabelledCapacity: 2000, HeldOutFraction: 0.2, QuotaBytes: 512L << 20));
        var random = new Random(1);
        var window = new float[windowFloats];
        var embedding = new float[width];
        string[] classes = ["idle", "normal", "imbalance", "misalignment", "bearing"];
        // Offered windows are timestamped as if sampled every 128 ms up to now.
        var start = DateTimeOffset.UtcNow - TimeSpan.FromMilliseconds(128.0 * (seen - reservoir.Seen));
        long written = 0;
        while (reservoir.Seen < seen)
        {
            for (int k = 0; k < window.Length; k++) window[k] = (float)(random.NextDouble() * 2 - 1);
            for (int k = 0; k < embedding.Length; k++) embedding[k] = (float)random.NextDouble() * 4;
            var end = start + TimeSpan.FromMilliseconds(128.0 * reservoir.Seen);
            reservoir.Offer(new ReservoirOffer(end.AddMilliseconds(-256), end, version, channels, classes[random.Next(classes.Length)], 0.9f), window, embedding);
            written += reservoir.Flush(); // synchronous: nothing is dropped for a writer that is behind
        }
        var stats = reservoir.GetStats();
        var problems = reservoir.CheckConsistency();
        Console.Out.WriteLine($"reservoir {path}: seen {stats.Seen}, {stats.Unlabelled} unlabelled samples (capacity {capacity}), {written} written now, {stats.SizeBytes} bytes on disk, {problems.Count} consistency problems");
        foreach (string problem in problems) Console.Error.WriteLine(problem);
        // Not necessarily capacity samples: a window Algorithm R kept while the daemon's writer was behind was dropped,
        // leaving its slot empty until a later admission lands on it, as on a device.
        return problems.Count == 0 ? 0 : 1;
    }

    private static int SwapModels(string root, int seed)
    {
        var store = new ModelStore(root, keep: 3, verifier: null);
        var random = new Random(seed);
        string scratch = Path.Combine(root, "..", $"scratch-{Environment.ProcessId}");
        Directory.CreateDirectory(scratch);
        int start = store.List("vib").Select(m => int.Parse(m.Version.Split('.')[0])).DefaultIfEmpty(0).Max() + 1;
        bool announced = false;
        for (int v = start; ; v++)
        {
            // Bundles of varying size so that copies take varying time and kills land everywhere.
            string bundle = Path.Combine(scratch, $"{v}.eab");
            var content = new byte[1024 + random.Next(256 * 1024)];
            random.NextBytes(content);
            System.Text.Encoding.ASCII.GetBytes($"model vib {v}.0\n").CopyTo(content, 0);
            File.WriteAllBytes(bundle, content);
            store.Install("vib", $"{v}.0", bundle, parentVersion: null);
            store.Activate("vib", $"{v}.0");
            File.Delete(bundle);
            if (random.Next(4) == 0 && store.List("vib").Count > 1) store.Rollback("vib", null);
            if (!announced)
            {
                Console.Out.WriteLine("ready");
                Console.Out.Flush();
                announced = true;
            }
        }
    }
}
