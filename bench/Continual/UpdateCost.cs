using System.Diagnostics;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Bench.Continual;

internal sealed record CostResult(double Seconds, double MedianSeconds, long AllocatedBytes, long PeakRssDeltaBytes, int Epochs, int Steps, int TrainingSamples, int EmbeddingSize, int HeadParameters);

/// <summary>
/// The cost of one update as the device pays it: a head of the class-incremental bench's size, 2,000
/// reservoir samples per epoch (400 fresh samples of 2 new classes + 1,600 replayed of 8 old ones, mixed
/// class-balanced), distillation,
/// L2-SP, requantization and the gate on 200 held-out samples, on this thread only. Synthetic
/// embeddings, so the same program times the update under qemu without the data set.
/// </summary>
internal static class UpdateCost
{
    public static CostResult Measure(LearnerOptions options, int embeddingSize, int repeats)
    {
        var random = new Random(3);
        var head = new Network([embeddingSize], [new Dense(embeddingSize, 128), new Relu(), new Dense(128, 8)]);
        head.Initialize(1);
        List<LabeledEmbedding> Draw(int n, int firstClass, int classes) => Enumerable.Range(0, n).Select(i =>
        {
            int c = firstClass + i % classes;
            var e = new float[embeddingSize];
            for (int k = 0; k < e.Length; k++) e[k] = MathF.Max(0, (float)random.NextDouble() + (k % 10 == c ? 1f : 0f));
            return new LabeledEmbedding(e, c);
        }).ToList();
        var data = new UpdateData(Draw(400, 8, 2), Draw(1600, 0, 8), Draw(200, 0, 10));
        // Warm up the JIT so the first timed run measures the update, not compilation.
        HeadLearner.Update(head, data, options with { Epochs = 1 });
        var times = new List<double>();
        long allocated = 0, peak = 0;
        UpdateResult? last = null;
        for (int r = 0; r < repeats; r++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            long rssBefore = ResetPeakRss();
            long before = GC.GetAllocatedBytesForCurrentThread();
            var clock = Stopwatch.StartNew();
            last = HeadLearner.Update(head, data, options);
            times.Add(clock.Elapsed.TotalSeconds);
            allocated = Math.Max(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
            long hwm = ReadStatusKb("VmHWM:") * 1024;
            if (rssBefore > 0 && hwm > 0) peak = Math.Max(peak, hwm - rssBefore);
        }
        times.Sort();
        int trained = last!.Metrics.Steps * options.BatchSize / Math.Max(1, last.Metrics.Epochs);
        return new CostResult(times.Average(), times[times.Count / 2], allocated, peak, last.Metrics.Epochs, last.Metrics.Steps,
            trained, embeddingSize, head.ParameterCount);
    }

    // Linux resets the peak resident set (VmHWM) when "5" is written to clear_refs; returns the current RSS.
    private static long ResetPeakRss()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return ReadStatusKb("VmRSS:") * 1024;
        }
        catch (IOException) { return -1; }
        catch (UnauthorizedAccessException) { return -1; }
    }

    private static long ReadStatusKb(string key)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(key, StringComparison.Ordinal))
                    return long.Parse(line[key.Length..].Trim().Split(' ')[0]);
        }
        catch (IOException) { }
        return -1;
    }
}
