using System.Diagnostics;
using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using EdgeAgent.Runtime.Ops;

namespace EdgeAgent.Checks.Runtime;

/// <summary>
/// Runs ONNX's backend test cases (a folder with model.onnx and test_data_set_*/input_*.pb, output_*.pb).
/// A case whose model uses an operator or element type we do not implement is skipped with the reason;
/// every other case must load, run and match the expected outputs (float: rtol 1e-3, atol 1e-5;
/// integers exact, except 8-bit outputs of quantizing operators which may differ by 1 as ONNX allows).
/// Shared by tests/conformance.sh (x64) and the ARM64 harness's --conformance mode (under qemu).
/// </summary>
public static class ConformanceRunner
{
    public const string DataRoot = "/usr/share/libonnx-testdata/data";
    public static readonly string[] Suites = ["node", "pytorch-converted", "pytorch-operator", "simple"];

    public enum Outcome { Passed, Failed, Skipped }

    public sealed record Result(string Test, Outcome Outcome, string Detail);

    private static readonly HashSet<string> s_quantizing = new(StringComparer.Ordinal)
    {
        "QuantizeLinear", "QLinearConv", "QLinearMatMul", "DynamicQuantizeLinear",
    };

    /// <summary>Every case folder under <paramref name="roots"/> (a root may itself be a case).</summary>
    public static IEnumerable<string> FindCases(IEnumerable<string> roots)
    {
        foreach (var root in roots)
        {
            if (File.Exists(Path.Combine(root, "model.onnx"))) { yield return root; continue; }
            if (!Directory.Exists(root)) continue;
            foreach (var dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
                if (File.Exists(Path.Combine(dir, "model.onnx"))) yield return dir;
        }
    }

    public static IEnumerable<string> DefaultRoots() => Suites.Select(s => Path.Combine(DataRoot, s));

    private static bool Computable(DataType t) => t is DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16
        or DataType.Bool or DataType.Int8 or DataType.UInt8 or DataType.Int16 or DataType.UInt16 or DataType.Int32
        or DataType.UInt32 or DataType.Int64 or DataType.UInt64;

    public static Result RunCase(string dir)
    {
        string name = Path.GetFileName(dir.TrimEnd('/'));
        OnnxModel model;
        try { model = OnnxReader.Load(Path.Combine(dir, "model.onnx")); }
        catch (ModelLoadException e) when (e.IsUnsupportedFeature) { return new(name, Outcome.Skipped, e.Message); }
        catch (Exception e) { return new(name, Outcome.Failed, $"load: {e.GetType().Name}: {e.Message}"); }

        var unsupported = OperatorRegistry.Unsupported(model.Graph);
        if (unsupported.Count > 0)
            return new(name, Outcome.Skipped, "unsupported ops: " + string.Join(", ", model.Graph.Nodes.Where(n => !OperatorRegistry.IsSupported(n)).Select(n => n.OpType).Distinct()));
        if (model.OnnxOpset > OperatorRegistry.MaxOpset) return new(name, Outcome.Skipped, $"opset {model.OnnxOpset}");
        foreach (var v in model.Graph.Inputs.Concat(model.Graph.Outputs))
            if (!Computable(v.ElementType)) return new(name, Outcome.Skipped, $"element type {v.ElementType.ToName()} of '{v.Name}'");
        bool quantized = model.Graph.Nodes.Any(n => s_quantizing.Contains(n.OpType));

        InferenceSession session;
        try { session = InferenceSession.FromModel(model); }
        catch (ModelLoadException e) when (e.IsUnsupportedFeature) { return new(name, Outcome.Skipped, e.Message); }
        catch (Exception e) { return new(name, Outcome.Failed, $"session: {e.GetType().Name}: {e.Message}"); }

        var sets = Directory.GetDirectories(dir, "test_data_set_*").Order(StringComparer.Ordinal).ToArray();
        if (sets.Length == 0) return new(name, Outcome.Skipped, "no test data sets");
        foreach (var set in sets)
        {
            try
            {
                var inputs = ReadTensors(set, "input", model.Graph.Inputs);
                var expected = ReadTensors(set, "output", model.Graph.Outputs);
                var feed = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                for (int k = 0; k < inputs.Count && k < model.Graph.Inputs.Count; k++)
                    if (model.Graph.Inputs[k].Shape is { } declared && !Fits(declared, inputs[k]))
                        return new(name, Outcome.Skipped, $"test data {inputs[k]} contradicts the declared shape of '{model.Graph.Inputs[k].Name}' [{string.Join(",", declared)}]");
                var runtimeInputs = session.Inputs;
                // Test data names inputs positionally over the graph inputs (initializers included when listed).
                var graphInputs = model.Graph.Inputs;
                for (int k = 0; k < inputs.Count && k < graphInputs.Count; k++)
                    if (runtimeInputs.Any(r => r.Name == graphInputs[k].Name)) feed[graphInputs[k].Name] = inputs[k];
                var outputs = session.Run(feed);
                if (outputs.Count < expected.Count) return new(name, Outcome.Failed, $"{outputs.Count} outputs, expected {expected.Count}");
                for (int k = 0; k < expected.Count; k++)
                {
                    string? diff = Compare(expected[k], outputs[k], quantized);
                    if (diff is not null) return new(name, Outcome.Failed, $"{Path.GetFileName(set)} output #{k} '{model.Graph.Outputs[k].Name}': {diff}");
                }
            }
            catch (ModelLoadException e) when (e.IsUnsupportedFeature) { return new(name, Outcome.Skipped, e.Message); }
            catch (Exception e) { return new(name, Outcome.Failed, $"{Path.GetFileName(set)}: {e.GetType().Name}: {e.Message}"); }
        }
        return new(name, Outcome.Passed, "");
    }

    private static bool Fits(IReadOnlyList<Dim> declared, Tensor t)
    {
        if (declared.Count != t.Rank) return false;
        for (int d = 0; d < declared.Count; d++)
            if (declared[d].Value is { } v && v != t.Shape[d]) return false;
        return true;
    }

    private static List<Tensor> ReadTensors(string set, string prefix, IReadOnlyList<ValueInfo> declared)
    {
        var list = new List<Tensor>();
        for (int k = 0; ; k++)
        {
            string path = Path.Combine(set, $"{prefix}_{k}.pb");
            if (!File.Exists(path)) return list;
            var t = OnnxReader.ReadTensorFile(path);
            // ONNX's test data stores bfloat16 values as uint16 bit patterns.
            if (t.DataType == DataType.UInt16 && k < declared.Count && declared[k].ElementType == DataType.BFloat16)
                t = Tensor.FromBytes(DataType.BFloat16, t.Shape, t.Bytes.ToArray());
            list.Add(t);
        }
    }

    /// <summary>Null when <paramref name="actual"/> matches, else a description of the first mismatch.</summary>
    public static string? Compare(Tensor expected, Tensor actual, bool quantized)
    {
        if (expected.DataType != actual.DataType) return $"type {actual.DataType.ToName()}, expected {expected.DataType.ToName()}";
        if (!expected.Shape.SequenceEqual(actual.Shape)) return $"shape {Tensor.FormatShape(actual.Shape)}, expected {Tensor.FormatShape(expected.Shape)}";
        int n = expected.ElementCount;
        bool isFloat = expected.DataType is DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16;
        for (int i = 0; i < n; i++)
        {
            if (isFloat)
            {
                double e = EdgeAgent.Runtime.Ops.CastOpsAccess.GetDouble(expected, i), a = EdgeAgent.Runtime.Ops.CastOpsAccess.GetDouble(actual, i);
                if (double.IsNaN(e) && double.IsNaN(a)) continue;
                if (double.IsInfinity(e) && e == a) continue;
                double tolerance = expected.DataType == DataType.Float16 || expected.DataType == DataType.BFloat16 ? 1e-2 : 1e-3;
                if (!(Math.Abs(a - e) <= 1e-5 + tolerance * Math.Abs(e))) return $"[{i}] = {a}, expected {e}";
            }
            else
            {
                long e = expected.DataType == DataType.UInt64 ? (long)expected.Span<ulong>()[i] : expected.GetInt64(i);
                long a = actual.DataType == DataType.UInt64 ? (long)actual.Span<ulong>()[i] : actual.GetInt64(i);
                long allowed = quantized && expected.DataType is DataType.Int8 or DataType.UInt8 ? 1 : 0;
                if (Math.Abs(a - e) > allowed) return $"[{i}] = {a}, expected {e}";
            }
        }
        return null;
    }

    /// <summary>Runs every case, printing one line per case unless quiet; returns the counts.</summary>
    public static (int Passed, int Failed, int Skipped) RunAll(IEnumerable<string> roots, TextWriter log, bool listPassed = false)
    {
        int passed = 0, failed = 0, skipped = 0;
        var clock = Stopwatch.StartNew();
        foreach (var dir in FindCases(roots))
        {
            string suite = Path.GetFileName(Path.GetDirectoryName(dir.TrimEnd('/'))!);
            var r = RunCase(dir);
            switch (r.Outcome)
            {
                case Outcome.Passed: passed++; if (listPassed) log.WriteLine($"PASS {suite}/{r.Test}"); break;
                case Outcome.Failed: failed++; log.WriteLine($"FAIL {suite}/{r.Test}: {r.Detail}"); break;
                default: skipped++; log.WriteLine($"SKIP {suite}/{r.Test}: {r.Detail}"); break;
            }
        }
        log.WriteLine($"({clock.Elapsed.TotalSeconds:F1} s)");
        return (passed, failed, skipped);
    }
}
