using System.Diagnostics;

namespace EdgeAgent.Bench.Kernels;

/// <summary>Median wall time of one call, over batches long enough for the clock and after a warm-up.</summary>
public static class Timing
{
    public static double MedianSeconds(Action run, double batchMilliseconds = 15, int samples = 7)
    {
        var sw = Stopwatch.StartNew();
        // Warm-up: tiered JIT promotes the callers, caches and branch predictors settle.
        do run(); while (sw.Elapsed.TotalMilliseconds < 30);
        int iterations = 1;
        while (true)
        {
            sw.Restart();
            for (int i = 0; i < iterations; i++) run();
            if (sw.Elapsed.TotalMilliseconds >= batchMilliseconds) break;
            iterations *= 2;
        }
        var times = new double[samples];
        for (int s = 0; s < samples; s++)
        {
            sw.Restart();
            for (int i = 0; i < iterations; i++) run();
            times[s] = sw.Elapsed.TotalSeconds / iterations;
        }
        Array.Sort(times);
        return times[samples / 2];
    }

    /// <summary>
    /// Estimates the core clock: a chain of dependent one-cycle integer operations (add and xor alternate so
    /// nothing can be reassociated) runs at one operation per cycle. Many short runs (a few milliseconds each)
    /// and the fastest one: on a shared machine a long run is nearly always cut by other processes' time slices,
    /// which would read as a slower clock and inflate every MACs-per-cycle figure.
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
            var sw = Stopwatch.StartNew();
            sink ^= Chain(sink);
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        GC.KeepAlive(sink);
        return (double)Iterations * OpsPerIteration / best;
    }
}
