using EdgeAgent.Daemon.Reservoir;
using Xunit;

namespace EdgeAgent.Tests.Reservoir;

public class PendingSamplePoolTests
{
    [Fact]
    public void SamplesAreMadeOnlyWhenEveryOneMadeIsInFlight()
    {
        var pool = new PendingSamplePool(8);
        var first = pool.TryRent(192, 16)!;
        pool.Return(first);
        // A writer that keeps up (a full reservoir keeps a window now and then): the one sample circulates.
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            var again = pool.TryRent(192, 16)!;
            Assert.Same(first, again);
            pool.Return(again);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(1, pool.Created);
    }

    [Fact]
    public void OnceTheWholeBudgetHasBeenInFlightItCirculatesWithoutAllocating()
    {
        var pool = new PendingSamplePool(8);
        var inFlight = new List<PendingSample>(pool.Capacity);
        while (inFlight.Count < pool.Capacity) inFlight.Add(pool.TryRent(192, 16)!);
        foreach (var s in inFlight) pool.Return(s);
        inFlight.Clear();
        Assert.Equal(pool.Capacity, pool.Created);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int round = 0; round < 3; round++)
        {
            while (inFlight.Count < pool.Capacity) inFlight.Add(pool.TryRent(192, 16)!);
            Assert.Null(pool.TryRent(192, 16));
            foreach (var s in inFlight) pool.Return(s);
            inFlight.Clear();
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void WhenTheWholeBudgetIsInFlightRentingSaysSoInsteadOfAllocating()
    {
        var pool = new PendingSamplePool(2);
        var a = pool.TryRent(4, 2)!;
        var b = pool.TryRent(4, 2)!;
        Assert.NotSame(a, b);
        Assert.Null(pool.TryRent(4, 2));
        pool.Return(b);
        Assert.Same(b, pool.TryRent(4, 2));
    }

    [Fact]
    public void ANewSizeRefillsTheBudgetAndSamplesOfTheOldSizeAreDroppedOnReturn()
    {
        var pool = new PendingSamplePool(3);
        var old = pool.TryRent(10, 4)!;
        var resized = pool.TryRent(20, 8)!;
        Assert.Equal((20, 8), (resized.Window.Length, resized.Embedding.Length));
        pool.Return(old);
        for (int i = 1; i < pool.Capacity; i++)
        {
            var s = pool.TryRent(20, 8);
            Assert.NotNull(s);
            Assert.NotSame(old, s);
        }
        Assert.Null(pool.TryRent(20, 8));
    }
}
