using System.Diagnostics;
using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using EdgeAgent.Runtime.Ops;

namespace EdgeAgent.Daemon.Cli;

/// <summary>
/// <c>edgeagent infer --model M.onnx --input NAME=FILE(.pb|.npy)... [--output DIR] [--threads N] [--repeat N]</c>
/// runs a model on files and writes each output as NAME.npy; <c>--describe</c> lists inputs, outputs,
/// operators and any operator we do not implement, by node name.
/// </summary>
internal static class InferCommand
{
    private const int ExitUsage = 2, ExitData = 65, ExitUnavailable = 69;

    public const string Usage =
        "usage: edgeagent infer --model M.onnx --input NAME=FILE(.pb|.npy)... [--output DIR] [--threads N] [--repeat N] [--allow-fallback]\n" +
        "       edgeagent infer --model M.onnx --describe";

    public static int Run(IReadOnlyList<string> args)
    {
        string? model = null, outputDir = null;
        var inputs = new List<(string name, string file)>();
        int threads = 1, repeat = 0;
        bool describe = false, allowFallback = false;
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            string? Next() => i + 1 < args.Count ? args[++i] : null;
            switch (a)
            {
                case "--model": model = Next(); break;
                case "--output": outputDir = Next(); break;
                case "--describe": describe = true; break;
                case "--allow-fallback": allowFallback = true; break;
                case "--threads":
                    if (!int.TryParse(Next(), out threads) || threads < 1) return UsageError("--threads takes a positive integer");
                    break;
                case "--repeat":
                    if (!int.TryParse(Next(), out repeat) || repeat < 1) return UsageError("--repeat takes a positive integer");
                    break;
                case "--input":
                    var spec = Next();
                    int eq = spec?.IndexOf('=') ?? -1;
                    if (spec is null || eq <= 0 || eq == spec.Length - 1) return UsageError("--input takes NAME=FILE");
                    inputs.Add((spec[..eq], spec[(eq + 1)..]));
                    break;
                case "-h" or "--help": Console.WriteLine(Usage); return 0;
                default: return UsageError($"unknown argument '{a}'");
            }
        }
        if (model is null) return UsageError("--model is required");
        try
        {
            var onnx = OnnxReader.Load(model);
            if (describe) { Describe(onnx); return 0; }
            var unsupported = OperatorRegistry.Unsupported(onnx.Graph);
            if (unsupported.Count > 0)
            {
                if (!allowFallback)
                {
                    Console.Error.WriteLine($"edgeagent infer: {model} uses operators this runtime does not implement: {string.Join(", ", unsupported)} (--allow-fallback runs it through ONNX Runtime)");
                    return ExitUnavailable;
                }
                Console.Error.WriteLine($"edgeagent infer: running through ONNX Runtime because of: {string.Join(", ", unsupported)}");
                return RunFallback(model, inputs, outputDir, repeat);
            }
            var session = InferenceSession.FromModel(onnx, new SessionOptions { Threads = threads });
            var feed = new Tensor[session.Inputs.Count];
            for (int k = 0; k < feed.Length; k++)
            {
                var info = session.Inputs[k];
                var match = inputs.FindIndex(x => x.name == info.Name);
                if (match < 0) return UsageError($"the model needs input '{info.Name}' ({info}); give --input {info.Name}=FILE");
                feed[k] = ReadTensor(inputs[match].file);
            }
            foreach (var (name, _) in inputs)
                if (!session.Inputs.Any(i => i.Name == name)) return UsageError($"the model has no input '{name}' (inputs: {string.Join(", ", session.Inputs.Select(i => i.Name))})");
            var outputs = session.Run(feed);
            Report(session.Outputs.Select(o => o.Name).ToList(), outputs, outputDir);
            if (repeat > 0) Time(() => session.Run(feed), repeat);
            return 0;
        }
        catch (ModelLoadException e)
        {
            Console.Error.WriteLine($"edgeagent infer: {e.Message}");
            return e.IsUnsupportedFeature ? ExitUnavailable : ExitData;
        }
        catch (Exception e) when (e is ArgumentException or InferenceException or IOException)
        {
            Console.Error.WriteLine($"edgeagent infer: {e.Message}");
            return ExitData;
        }
    }

    private static int UsageError(string message)
    {
        Console.Error.WriteLine($"edgeagent infer: {message}");
        Console.Error.WriteLine(Usage);
        return ExitUsage;
    }

    private static Tensor ReadTensor(string file) =>
        file.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) ? NpyFile.Read(file) : OnnxReader.ReadTensorFile(file);

    private static void Report(IReadOnlyList<string> names, IReadOnlyList<Tensor> outputs, string? outputDir)
    {
        if (outputDir is not null) Directory.CreateDirectory(outputDir);
        for (int k = 0; k < outputs.Count; k++)
        {
            Console.WriteLine($"{names[k]}: {outputs[k]}");
            if (outputDir is null) continue;
            string file = Path.Combine(outputDir, SafeFileName(names[k]) + ".npy");
            NpyFile.Write(outputs[k], file);
        }
    }

    private static string SafeFileName(string name)
    {
        var chars = name.Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' or '.' ? ch : '_').ToArray();
        var s = new string(chars).TrimStart('.');
        return s.Length == 0 ? "output" : s;
    }

    private static void Time(Action run, int repeat)
    {
        run(); // warm-up
        var ms = new double[repeat];
        for (int i = 0; i < repeat; i++)
        {
            long start = Stopwatch.GetTimestamp();
            run();
            ms[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(ms);
        double median = repeat % 2 == 1 ? ms[repeat / 2] : (ms[repeat / 2 - 1] + ms[repeat / 2]) / 2;
        Console.WriteLine($"latency over {repeat} runs: median {median:F3} ms, min {ms[0]:F3} ms");
    }

    private static void Describe(OnnxModel model)
    {
        var g = model.Graph;
        Console.WriteLine($"model: ir_version {model.IrVersion}, opsets {string.Join(", ", model.Opsets.Select(o => $"{(o.Domain.Length == 0 ? "ai.onnx" : o.Domain)}:{o.Version}"))}, producer '{model.ProducerName} {model.ProducerVersion}'");
        Console.WriteLine("inputs:");
        foreach (var i in g.RuntimeInputs) Console.WriteLine($"  {i}");
        Console.WriteLine("outputs:");
        foreach (var o in g.Outputs) Console.WriteLine($"  {o}");
        Console.WriteLine($"initializers: {g.Initializers.Count} ({g.Initializers.Values.Sum(t => (long)t.ByteLength)} bytes)");
        Console.WriteLine("ops:");
        foreach (var grp in g.Nodes.GroupBy(n => (n.Domain.Length == 0 ? "" : n.Domain + ":") + n.OpType).OrderBy(x => x.Key, StringComparer.Ordinal))
            Console.WriteLine($"  {grp.Key} x{grp.Count()}");
        var unsupported = OperatorRegistry.Unsupported(g);
        Console.WriteLine(unsupported.Count == 0 ? "unsupported: none" : "unsupported:");
        foreach (var u in unsupported) Console.WriteLine($"  {u}");
    }

    private static int RunFallback(string model, List<(string name, string file)> inputs, string? outputDir, int repeat)
    {
        var feed = inputs.ToDictionary(x => x.name, x => ReadTensor(x.file), StringComparer.Ordinal);
        try
        {
            using var fallback = new OnnxRuntimeFallback(model);
            var outputs = fallback.Run(feed);
            Report(outputs.Select(o => o.Name).ToList(), outputs.Select(o => o.Value).ToList(), outputDir);
            if (repeat > 0) Time(() => fallback.Run(feed), repeat);
            return 0;
        }
        catch (FallbackUnavailableException e)
        {
            Console.Error.WriteLine($"edgeagent infer: {e.Message}");
            return ExitUnavailable;
        }
    }
}
