using System.Security.Cryptography;
using EdgeAgent.Daemon.Models;
using EdgeAgent.Daemon.Reservoir;
using EdgeAgent.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace EdgeAgent.Tests.Reservoir;

/// <summary>
/// The issue's fault tests: 50 SIGKILLs of a process in the middle of reservoir writes, and 50 in the middle
/// of model swaps, each at a random moment. After every kill the database must open and pass its own
/// consistency check, and the model store must resolve to a valid, intact version.
/// </summary>
public class CrashSafetyTests(ITestOutputHelper output)
{
    private const int Kills = 50;

    [Fact]
    public void FiftyKillsDuringReservoirWritesLeaveAConsistentDatabase()
    {
        using var dir = new TempDirectory();
        string db = dir.File("reservoir.db");
        var random = new Random(1234);
        long lastSeen = 0;
        int lostCommits = 0;
        for (int i = 0; i < Kills; i++)
        {
            long committedSeen;
            using (var child = FaultChild.StartAndWaitReady("reservoir-writer", db, (i + 1).ToString()))
            {
                Thread.Sleep(random.Next(5, 120));
                Assert.False(child.HasExited, child.StandardError);
                child.Kill();
                // The Algorithm R count of the last unlabelled write the child saw committed: those writes carry no meta
                // document, so this is what the restart must recover from the samples themselves.
                committedSeen = child.RemainingOutput().Where(l => l.StartsWith("committed ", StringComparison.Ordinal))
                    .Select(l => long.Parse(l["committed ".Length..], System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(lastSeen).Last();
            }
            long durable = DurableSeen(db);
            using var reservoir = new LiteDbReservoir(new ReservoirSettings(db, 40, 30, 0.2, 64L << 20));
            var problems = reservoir.CheckConsistency();
            Assert.True(problems.Count == 0, $"kill {i + 1}: " + string.Join("; ", problems));
            var stats = reservoir.GetStats();
            Assert.InRange(stats.Unlabelled, 1, 40);
            Assert.InRange(stats.Labelled, 0, 30);
            Assert.True(stats.Seen >= lastSeen, $"kill {i + 1}: seen went back from {lastSeen} to {stats.Seen}");
            // The unlabelled writes carry no meta document: the restart recovers Algorithm R's count from what the database
            // holds, which must be the count of its last durable write (the largest a sample or the meta document records).
            Assert.Equal(durable, stats.Seen);
            // LiteDB writes its log from a queue, so a kill can also take commits that had returned (never part of one).
            if (stats.Seen < committedSeen) lostCommits++;
            lastSeen = stats.Seen;
        }
        output.WriteLine($"{Kills} kills; the reservoir saw {lastSeen} windows in total; {lostCommits} kills took returned commits still in LiteDB's log queue");
    }

    /// <summary>The largest Algorithm R count that the database itself records (read with LiteDB directly, not the reservoir).</summary>
    private static long DurableSeen(string path)
    {
        long seen = 0;
        // The reservoir's own file, opened as the reservoir opens it (LiteDB replays its log here, as it would there).
        using var db = new LiteDB.LiteDatabase(new LiteDB.ConnectionString { Filename = path, Connection = LiteDB.ConnectionType.Direct });
        if (db.GetCollection("meta").FindById("state") is { } meta) seen = meta["seen"].AsInt64;
        foreach (string collection in (string[])["unlabelled", "labelled"])
            foreach (var doc in db.GetCollection(collection).Query().Select("{ seen: $.seen }").ToEnumerable())
                if (doc["seen"].IsNumber) seen = Math.Max(seen, doc["seen"].AsInt64);
        return seen;
    }

    [Fact]
    public void FiftyKillsDuringModelSwapsAlwaysRestartIntoAValidModel()
    {
        using var dir = new TempDirectory();
        string root = dir.File("models");
        var random = new Random(4321);
        var versionsServed = new HashSet<string>();
        for (int i = 0; i < Kills; i++)
        {
            using (var child = FaultChild.StartAndWaitReady("model-swapper", root, (i + 1).ToString()))
            {
                Thread.Sleep(random.Next(0, 150));
                Assert.False(child.HasExited, child.StandardError);
                child.Kill();
            }
            var store = new ModelStore(root, keep: 3, verifier: null);
            var resolution = store.ResolveServable("vib", model =>
            {
                // "Loading" here checks what a model runtime would: the bundle is the one its version names.
                using var stream = File.OpenRead(model.BundlePath);
                var header = new byte[64];
                int read = stream.Read(header);
                string first = System.Text.Encoding.ASCII.GetString(header, 0, read).Split('\n')[0];
                return first == $"model vib {model.Version}" ? null : $"header '{first}' does not match {model.Version}";
            });
            Assert.True(resolution is not null, $"kill {i + 1}: no servable model; store has {string.Join(", ", store.List("vib").Select(m => m.Version + (m.IsBad ? "(bad: " + m.BadReason + ")" : "")))}");
            Assert.False(resolution!.FellBack, $"kill {i + 1}: fell back: {string.Join("; ", resolution.Skipped)}");
            Assert.Null(ModelStore.CheckIntegrity(resolution.Model));
            Assert.Equal(resolution.Model.Version, store.GetCurrent("vib")!.Version);
            // Keep is 3; a kill between an install and its activation leaves one more until the next activation prunes.
            Assert.InRange(store.List("vib").Count, 1, 4);
            versionsServed.Add(resolution.Model.Version);
        }
        output.WriteLine($"{Kills} kills; restarted into {versionsServed.Count} different versions");
        Assert.True(versionsServed.Count > Kills / 2, "kills should land at many different points of the swap loop");
    }
}
