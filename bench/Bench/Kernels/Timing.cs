using System.Diagnostics;

namespace EdgeAgent.Bench.Kernels;

/// <summary>
/// Median time of one call, over batches long enough for the clock and after a warm-up. With
/// <see cref="ThreadCpuTime"/> the clock is the calling thread's CPU time (single-threaded runs, ours and ORT's
/// alike run on the calling thread): on a shared machine wall time also counts the slices other processes
/// take from this core, which made rows swing by +-50% from run to run.
/// </summary>
public static class Timing
{
    public static bool ThreadCpuTime { get; set; }

    private static double NowSeconds() => ThreadCpuTime ? Models.ThreadClock.CpuMilliseconds() / 1e3 : Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency;

    public static double MedianSeconds(Action run, double batchMilliseconds = 15, int samples = 7)
    {
        var sw = Stopwatch.StartNew();
        // Warm-up: caches and branch predictors settle (the bench runs without tiered compilation).
        do run(); while (sw.Elapsed.TotalMilliseconds < 30);
        int iterations = 1;
        while (true)
        {
            double start = NowSeconds();
            for (int i = 0; i < iterations; i++) run();
            if ((NowSeconds() - start) * 1e3 >= batchMilliseconds) break;
            iterations *= 2;
        }
        var times = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            double start = NowSeconds();
            for (int i = 0; i < iterations; i++) run();
            times[s] = (NowSeconds() - start) / iterations;
        }
        Array.Sort(times);
        return times[samples / 2];
    }

    /// <summary>
    /// Estimates the core clock: a chain of dependent one-cycle integer operations (add and xor alternate so
    /// nothing can be reassociated) runs at one operation per cycle. Many short runs (a few milliseconds each)
    /// of the calling thread's CPU time, and the fastest one: on a shared machine wall time (and even CPU time,
    /// through cache and frequency effects) of a long run is disturbed by other processes, which would read as a
    /// slower clock and inflate every MACs-per-cycle figure.
    /// </summary>
    public static double EstimateHz()
    {
        var seeds = new long[] { Environment.TickCount64 | 1, 3, 5, 7 };
        long a = seeds[0], b = seeds[1], c = seeds[2], d = seeds[3];
        const int Iterations = 1_000_000, OpsPerIteration = 16, Runs = 60;
        long Chain(long x)
        {
            for (int i = 0; i < Iterations; i++)
            {
                x += a; x ^= b; x += c; x ^= d; x += a; x ^= b; x += c; x ^= d;
                x += a; x ^= b; x += c; x ^= d; x += a; x ^= b; x += c; x ^= d;
            }
            return x;
        }
        long sink = Chain(1);
        double best = double.MaxValue;
        for (int r = 0; r < Runs; r++)
        {
            double start = Models.ThreadClock.CpuMilliseconds();
            sink ^= Chain(sink);
            best = Math.Min(best, (Models.ThreadClock.CpuMilliseconds() - start) / 1e3);
        }
        GC.KeepAlive(sink);
        return (double)Iterations * OpsPerIteration / best;
    }
}
