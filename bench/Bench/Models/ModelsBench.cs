using System.Diagnostics;
using System.Globalization;
using System.Text;
using EdgeAgent.Bench.Kernels;
using EdgeAgent.Compression.Data;
using EdgeAgent.Compression.Quantization;
using EdgeAgent.Kernels;
using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using Microsoft.ML.OnnxRuntime;
using OrtSession = Microsoft.ML.OnnxRuntime.InferenceSession;
using Session = EdgeAgent.Runtime.InferenceSession;
using Tensor = EdgeAgent.Runtime.Ir.Tensor;

namespace EdgeAgent.Bench.Models;

/// <summary>
/// <c>./build.sh bench models</c>: end-to-end batch-1 latency of the <see cref="ModelZoo"/> models, float and
/// static int8 QDQ (quantized by our <see cref="QdqQuantizer"/>), in our runtime and in ONNX Runtime, in one
/// process, with the same thread count and the same input. Each engine is timed run by run in interleaved
/// rounds after a warm-up; the median is reported. Targets (int8 rows): ours ≤ ORT int8, ours ≤ 0.5 × ORT float.
/// </summary>
public static class ModelsBench
{
    private sealed record Row(string Model, string Precision, double OursMs, double OrtMs, double OrtFloatMs, double MaxAbsDiff, string Paths);

    public static int Run(string[] args)
    {
        int threads = 1, runs = 60;
        string output = Path.Combine("bench", "results", "models.json");
        string? only = null, keep = null;
        bool profile = false;
        string? clock = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--threads" when i + 1 < args.Length: threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--runs" when i + 1 < args.Length: runs = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--output" when i + 1 < args.Length: output = args[++i]; break;
                case "--model" when i + 1 < args.Length: only = args[++i]; break;
                case "--keep-models" when i + 1 < args.Length: keep = args[++i]; break;
                case "--profile": profile = true; break;
                case "--clock" when i + 1 < args.Length: clock = args[++i]; break;
                default:
                    Console.Error.WriteLine($"models bench: unknown option '{args[i]}' (--threads N, --runs N, --clock wall|cpu, --model NAME, --keep-models DIR, --profile, --output FILE)");
                    return 2;
            }
        }
        if (threads < 1 || runs < 5) { Console.Error.WriteLine("models bench: --threads must be ≥ 1 and --runs ≥ 5"); return 2; }
        // The machine is shared: with one thread both engines run on the calling thread, and that thread's CPU
        // time leaves out the time the scheduler gave other processes. With more threads only wall time is fair.
        clock ??= threads == 1 ? "cpu" : "wall";
        if (clock is not ("cpu" or "wall") || clock == "cpu" && threads != 1)
        {
            Console.Error.WriteLine($"models bench: --clock {clock}: use wall, or cpu with --threads 1");
            return 2;
        }
        Func<double> now = clock == "cpu" ? ThreadClock.CpuMilliseconds : ThreadClock.WallMilliseconds;
        Console.WriteLine($"models bench: {threads} thread(s), median of {runs} runs per engine after warm-up ({clock} clock); kernels {KernelTable.Current.Name} ({CpuFeatures.Host.Describe()}); ONNX Runtime {OrtEnv.Instance().GetVersionString()}");
        var rows = new List<Row>();
        foreach (var spec in ModelZoo.All)
        {
            if (only is not null && spec.Name != only) continue;
            var floatModel = spec.Build();
            byte[] floatBytes = OnnxWriter.ToBytes(floatModel);
            var quantized = OnnxReader.Load(floatBytes);
            var input = Input(spec.InputShape, seed: 7);
            QdqQuantizer.Quantize(quantized, Calibration(spec.InputShape), new QuantizeOptions());
            byte[] int8Bytes = OnnxWriter.ToBytes(quantized);
            if (keep is not null)
            {
                Directory.CreateDirectory(keep);
                File.WriteAllBytes(Path.Combine(keep, $"{spec.Name}.onnx"), floatBytes);
                File.WriteAllBytes(Path.Combine(keep, $"{spec.Name}.int8.onnx"), int8Bytes);
            }
            using var oursFloat = new OursEngine(floatBytes, spec.InputShape, input, threads);
            using var oursInt8 = new OursEngine(int8Bytes, spec.InputShape, input, threads);
            using var ortFloat = new OrtEngine(floatBytes, spec.InputShape, input, threads);
            using var ortInt8 = new OrtEngine(int8Bytes, spec.InputShape, input, threads);
            var times = Measure([oursFloat, oursInt8, ortFloat, ortInt8], runs, now);
            if (profile)
            {
                oursFloat.Profile(spec.Name + " float", runs, now);
                oursInt8.Profile(spec.Name + " int8", runs, now);
                OrtEngine.Profile(int8Bytes, spec.InputShape, input, threads, spec.Name + " int8", runs);
            }
            rows.Add(Print(new Row(spec.Name, "float", times[0], times[2], times[2], MaxAbsDiff(oursFloat.Output, ortFloat.Output), oursFloat.Paths)));
            rows.Add(Print(new Row(spec.Name, "int8", times[1], times[3], times[2], MaxAbsDiff(oursInt8.Output, ortInt8.Output), oursInt8.Paths)));
        }
        Write(output, threads, clock, rows);
        Summarize(rows);
        Console.WriteLine($"wrote {output}");
        return 0;
    }

    private interface IEngine { void Run(); }

    private sealed class OursEngine : IEngine, IDisposable
    {
        private readonly Session _session;
        private readonly Tensor[] _inputs;

        public OursEngine(byte[] model, int[] shape, float[] input, int threads)
        {
            _session = Session.FromBytes(model, new EdgeAgent.Runtime.SessionOptions { Threads = threads });
            _inputs = [Tensor.FromArray<float>(input, shape)];
            Run();
        }

        public float[] Output => _session.Run(_inputs)[0].ToArray<float>();

        /// <summary>Kernel paths of the compiled nodes, counted (e.g. <c>qconv.avx-vnni x14</c>).</summary>
        public string Paths => string.Join(", ", _session.Report.GroupBy(r => r.KernelPath).Select(g => $"{g.Key} x{g.Count()}"));

        public void Run() => _session.Run(_inputs);

        /// <summary>Prints the mean time of every executed node over <paramref name="runs"/> runs, slowest first.</summary>
        public void Profile(string title, int runs, Func<double> clock)
        {
            var plan = _session.Plan ?? throw new InvalidOperationException("the session has no plan to profile");
            var ticks = new double[plan.StepList.Count];
            for (int i = 0; i < runs; i++) plan.ExecuteTimed(ticks, clock);
            Console.WriteLine($"  profile {title}:");
            foreach (var (step, t) in plan.StepList.Zip(ticks).OrderByDescending(p => p.Second))
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"    {t / runs,9:F4} ms  {step.Node.DisplayName} ({step.Node.OpType}) {step.Kernel.Path}"));
        }

        public void Dispose() => _session.Dispose();
    }

    private sealed class OrtEngine : IEngine, IDisposable
    {
        private readonly OrtRunner _runner;
        private readonly float[] _output;

        public OrtEngine(byte[] model, int[] shape, float[] input, int threads, string? profilePrefix = null)
        {
            // The output length comes from the model itself, through ORT's own metadata.
            using (var probe = new OrtSession(model))
                _output = new float[probe.OutputMetadata["y"].Dimensions.Aggregate(1, (a, b) => a * b)];
            var outputShape = new long[] { 1, _output.Length };
            _runner = new OrtRunner(model, threads, [("x", OrtRunner.Tensor(input.ToArray(), shape.Select(d => (long)d).ToArray()))],
                ("y", OrtRunner.Tensor(_output, outputShape)), profilePrefix);
            Run();
        }

        /// <summary>
        /// ORT's own per-node profile of <paramref name="runs"/> runs after a warm-up (its profiler times each kernel in
        /// wall-clock microseconds), printed like ours: mean per run, slowest first, with ORT's fused op names.
        /// </summary>
        public static void Profile(byte[] model, int[] shape, float[] input, int threads, string title, int runs)
        {
            string prefix = Path.Combine(Path.GetTempPath(), $"edgeagent-bench-ort-{Environment.ProcessId}");
            string trace;
            using (var engine = new OrtEngine(model, shape, input, threads, prefix))
            {
                for (int i = 0; i < 20; i++) engine.Run();
                for (int i = 0; i < runs; i++) engine.Run();
                trace = engine._runner.EndProfiling();
            }
            var perNode = new Dictionary<string, (List<double> Us, string Op)>();
            using (var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(trace)))
            {
                foreach (var ev in doc.RootElement.EnumerateArray())
                {
                    if (!ev.TryGetProperty("cat", out var cat) || cat.GetString() != "Node") continue;
                    string name = ev.GetProperty("name").GetString() ?? "";
                    if (!name.EndsWith("_kernel_time", StringComparison.Ordinal)) continue;
                    string op = ev.TryGetProperty("args", out var args) && args.TryGetProperty("op_name", out var o) ? o.GetString() ?? "" : "";
                    if (!perNode.TryGetValue(name, out var entry)) perNode[name] = entry = ([], op);
                    entry.Us.Add(ev.GetProperty("dur").GetDouble());
                }
            }
            File.Delete(trace);
            // Medians: the trace also holds the warm-up runs, whose first is far slower (ORT prepacks on first use).
            static double Median(List<double> v) { v.Sort(); return v[v.Count / 2]; }
            Console.WriteLine($"  ORT profile {title} (wall clock, median of {runs + 20} runs per node):");
            foreach (var (name, (us, op)) in perNode.Select(p => (p.Key, (Median(p.Value.Us), p.Value.Op))).OrderByDescending(p => p.Item2.Item1))
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"    {us / 1000,9:F4} ms  {name[..^"_kernel_time".Length]} ({op})"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    {perNode.Values.Sum(v => Median(v.Us)) / 1000,9:F4} ms  total of the nodes"));
        }

        public float[] Output { get { Run(); return _output.ToArray(); } }

        public void Run() => _runner.Run();

        public void Dispose() => _runner.Dispose();
    }

    /// <summary>Median milliseconds per engine: warm-up, then rounds in which every engine runs a slice of its runs in turn.</summary>
    private static double[] Measure(IEngine[] engines, int runs, Func<double> now)
    {
        var sw = new Stopwatch();
        foreach (var e in engines)
        {
            sw.Restart();
            int n = 0;
            do { e.Run(); n++; } while (n < 5 || sw.Elapsed.TotalMilliseconds < 300);
        }
        const int Rounds = 5;
        var samples = engines.Select(_ => new List<double>()).ToArray();
        for (int round = 0; round < Rounds; round++)
            for (int k = 0; k < engines.Length; k++)
                for (int i = 0; i < (runs + Rounds - 1) / Rounds; i++)
                {
                    double t0 = now();
                    engines[k].Run();
                    samples[k].Add(now() - t0);
                }
        return samples.Select(s => { s.Sort(); return s[s.Count / 2]; }).ToArray();
    }

    private static float[] Input(int[] shape, int seed)
    {
        var random = new Random(seed);
        var v = new float[shape.Aggregate(1, (a, b) => a * b)];
        for (int i = 0; i < v.Length; i++) v[i] = (float)(2 * random.NextDouble() - 1);
        return v;
    }

    private static SampleSet Calibration(int[] shape)
    {
        var samples = Enumerable.Range(100, 8).Select(seed => new[] { Tensor.FromArray<float>(Input(shape, seed), shape) }).ToList();
        return new SampleSet(["x"], samples, null, "random calibration inputs");
    }

    private static double MaxAbsDiff(float[] a, float[] b) =>
        a.Length != b.Length ? double.NaN : a.Zip(b, (x, y) => (double)Math.Abs(x - y)).DefaultIfEmpty(0).Max();

    private static Row Print(Row r)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{r.Model,-13} {r.Precision,-5}  ours {r.OursMs,8:F3} ms   ORT {r.OrtMs,8:F3} ms   ORT float {r.OrtFloatMs,8:F3} ms   ours/ORT {r.OursMs / r.OrtMs,5:F2}   ours/ORT-float {r.OursMs / r.OrtFloatMs,5:F2}   max|ours-ORT| {r.MaxAbsDiff:G3}"));
        Console.WriteLine($"{"",-13} paths: {r.Paths}");
        return r;
    }

    private static void Summarize(List<Row> rows)
    {
        Console.WriteLine("targets (int8 rows): ours <= ORT int8, ours <= 0.5 x ORT float");
        foreach (var r in rows.Where(r => r.Precision == "int8"))
        {
            double vsInt8 = r.OursMs / r.OrtMs, vsFloat = r.OursMs / r.OrtFloatMs;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {r.Model,-13} ours/ORT-int8 {vsInt8:F2} {(vsInt8 <= 1 ? "met" : "NO")}   ours/ORT-float {vsFloat:F2} {(vsFloat <= 0.5 ? "met" : "NO")}"));
        }
    }

    private static void Write(string path, int threads, string clock, List<Row> rows)
    {
        var json = new StringBuilder();
        json.Append(CultureInfo.InvariantCulture,
            $"{{\"threads\": {threads}, \"clock\": \"{clock}\", \"cpu\": \"{CpuFeatures.Host.Describe()}\", \"kernels\": \"{KernelTable.Current.Name}\", \"ort_version\": \"{OrtEnv.Instance().GetVersionString()}\", \"rows\": [");
        for (int i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            json.Append(i == 0 ? "\n  " : ",\n  ");
            json.Append(CultureInfo.InvariantCulture,
                $"{{\"model\": \"{r.Model}\", \"precision\": \"{r.Precision}\", \"ours_ms\": {r.OursMs:F4}, \"ort_ms\": {r.OrtMs:F4}, \"ort_float_ms\": {r.OrtFloatMs:F4}, ");
            json.Append(CultureInfo.InvariantCulture,
                $"\"ratio_vs_ort\": {r.OursMs / r.OrtMs:F3}, \"ratio_vs_ort_float\": {r.OursMs / r.OrtFloatMs:F3}, \"max_abs_diff_vs_ort\": {r.MaxAbsDiff:G4}, \"paths\": \"{r.Paths}\"}}");
        }
        json.Append("\n]}\n");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, json.ToString());
    }
}
