using System.Diagnostics;
using EdgeAgent.Compression.Training;
using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Bench.Compression;

/// <summary>Accuracy and batch-1 latency of ONNX models in our runtime (<see cref="InferenceSession"/>).</summary>
internal static class Measure
{
    public static double Accuracy(OnnxModel model, TrainingSet test, int batch = 100)
    {
        // The session rewrites the graph it is given (fusions): measure on a copy so the caller's model stays a plain ONNX model.
        var session = InferenceSession.FromModel(model.Copy(), new SessionOptions { Threads = 1 });
        int correct = 0;
        for (int start = 0; start < test.Count; start += batch)
        {
            int n = Math.Min(batch, test.Count - start);
            var x = Tensor.FromArray<float>(test.Inputs.AsSpan(start * test.SampleSize, n * test.SampleSize), [n, .. test.SampleShape]);
            var y = session.Run([x])[0].ToArray<float>();
            int classes = y.Length / n;
            for (int i = 0; i < n; i++)
                if (LabeledData.ArgMax(y.AsSpan(i * classes, classes)) == test.Labels[start + i]) correct++;
        }
        return correct / (double)test.Count;
    }

    /// <summary>
    /// Median milliseconds per batch-1 inference of each model. Rounds alternate between the models
    /// so a neighbour's load on the shared machine hits them alike.
    /// </summary>
    public static double[] LatencyMs(IReadOnlyList<OnnxModel> models, TrainingSet samples, int rounds = 9, int runsPerRound = 200)
    {
        var sessions = models.Select(m => InferenceSession.FromModel(m.Copy(), new SessionOptions { Threads = 1 })).ToArray();
        var inputs = Enumerable.Range(0, 16).Select(i => Tensor.FromArray<float>(samples.Sample(i), [1, .. samples.SampleShape])).ToArray();
        foreach (var s in sessions)
            for (int i = 0; i < 100; i++) s.Run([inputs[i % inputs.Length]]);
        var times = sessions.Select(_ => new List<double>()).ToArray();
        for (int r = 0; r < rounds; r++)
            for (int k = 0; k < sessions.Length; k++)
            {
                var clock = Stopwatch.StartNew();
                for (int i = 0; i < runsPerRound; i++) sessions[k].Run([inputs[i % inputs.Length]]);
                times[k].Add(clock.Elapsed.TotalMilliseconds / runsPerRound);
            }
        return times.Select(t => t.Order().ElementAt(t.Count / 2)).ToArray();
    }

    public static long Parameters(OnnxModel model) => model.Graph.Initializers.Values.Sum(t => (long)t.ElementCount);
}
