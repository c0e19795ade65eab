using System.Diagnostics;
using EdgeAgent.Compression.Data;
using EdgeAgent.Compression.Quantization;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Compression.Evaluation;

/// <summary>One weight layer in a report.</summary>
public sealed record LayerReport(string Node, string OpType, long Parameters, long Macs, double? SqnrDb);

/// <summary>The numbers of <c>exporter report</c>. Nullable fields were not measured (no reference, no labels, engine missing an operator).</summary>
public sealed record ModelReport
{
    public required string ModelPath { get; init; }
    public string? ReferencePath { get; init; }
    public required long ModelBytes { get; init; }
    public long? ReferenceBytes { get; init; }
    public required long Parameters { get; init; }
    public required long Macs { get; init; }
    public required IReadOnlyList<LayerReport> Layers { get; init; }
    public required int Samples { get; init; }
    public required string Engine { get; init; }
    public string? ReferenceEngine { get; init; }
    public double? Accuracy { get; init; }
    public double? ReferenceAccuracy { get; init; }
    public double? Top1Agreement { get; init; }
    public double? OutputSqnrDb { get; init; }
    /// <summary>Milliseconds per sample (batch 1) in an optimised session of the engine, over at most 200 samples.</summary>
    public double? LatencyMs { get; init; }
    public double? ReferenceLatencyMs { get; init; }
    /// <summary>Top-1 agreement of our runtime and ONNX Runtime on the model.</summary>
    public double? EngineTop1Agreement { get; init; }
    /// <summary>Largest |ours − ORT| over all outputs, in units of the output's quantization step (or absolute when not quantized).</summary>
    public double? EngineMaxDifferenceSteps { get; init; }
    public string? EngineNote { get; init; }
}

/// <summary>Measures a model (optionally against its float reference) on samples.</summary>
public static class ModelReporter
{
    public static ModelReport Measure(string modelPath, OnnxModel model, string? referencePath, OnnxModel? reference, SampleSet? data,
                                      Action<int, int>? progress = null)
    {
        var layers = model.Graph.Nodes.Where(ModelStatistics.IsWeightLayer).ToList();
        var refLayers = reference?.Graph.Nodes.Where(ModelStatistics.IsWeightLayer).ToDictionary(n => n.DisplayName, StringComparer.Ordinal);
        var refPoints = refLayers?.ToDictionary(kv => kv.Key, kv => ReferencePoint(reference!.Graph, kv.Value, model.Graph, layers.FirstOrDefault(n => n.DisplayName == kv.Key)), StringComparer.Ordinal);
        var sqnr = layers.ToDictionary(n => n.DisplayName, _ => new Sqnr(), StringComparer.Ordinal);
        var macs = new Dictionary<string, long>(StringComparer.Ordinal);
        double? accuracy = null, refAccuracy = null, agreement = null, outputSqnr = null, latency = null, refLatency = null;
        double? engineAgreement = null, engineSteps = null;
        string? note = null;
        string engine = OursRunner.Supports(model) ? "edgeagent" : "onnxruntime";
        string? refEngine = reference is null ? null : OursRunner.Supports(reference) ? "edgeagent" : "onnxruntime";
        if (engine != "edgeagent") note = "our runtime does not implement every operator of this model yet: " + string.Join(", ", Runtime.Ops.OperatorRegistry.Unsupported(model.Graph).Take(4));

        if (data is not null)
        {
            var extra = layers.Select(n => n.Outputs[0]).ToList();
            using var runner = Create(engine, ModelRunner.WithExtraOutputs(model, extra));
            using var refRunner = reference is null ? null
                : Create(refEngine!, ModelRunner.WithExtraOutputs(reference, refPoints!.Values.Distinct()));
            var layerIndex = layers.Select(n => IndexOf(runner.OutputNames, n.Outputs[0])).ToArray();
            var outSqnr = new Sqnr();
            int correct = 0, refCorrect = 0, agree = 0;
            for (int s = 0; s < data.Count; s++)
            {
                var y = runner.Run(data.Samples[s]);
                int top = ArgMax(y[0]);
                if (s == 0)
                    for (int k = 0; k < layers.Count; k++)
                        macs[layers[k].DisplayName] = ModelStatistics.Macs(model.Graph, layers[k], y[layerIndex[k]].Length);
                if (data.Labels is { } labels && top == labels[s]) correct++;
                if (refRunner is not null)
                {
                    var r = refRunner.Run(data.Samples[s]);
                    int refTop = ArgMax(r[0]);
                    if (refTop == top) agree++;
                    if (data.Labels is { } l2 && refTop == l2[s]) refCorrect++;
                    outSqnr.Add(r[0], y[0]);
                    var refNames = refRunner.OutputNames;
                    for (int k = 0; k < layers.Count; k++)
                    {
                        if (!refPoints!.TryGetValue(layers[k].DisplayName, out var point)) continue;
                        int idx = IndexOf(refNames, point);
                        if (idx >= 0 && r[idx].Length == y[layerIndex[k]].Length) sqnr[layers[k].DisplayName].Add(r[idx], y[layerIndex[k]]);
                    }
                }
                progress?.Invoke(s + 1, data.Count);
            }
            (latency, refLatency) = MeasureLatency(engine, model, refEngine, reference, data);
            if (data.Labels is not null) accuracy = correct / (double)data.Count;
            if (refRunner is not null)
            {
                agreement = agree / (double)data.Count;
                outputSqnr = outSqnr.Decibels;
                if (data.Labels is not null) refAccuracy = refCorrect / (double)data.Count;
            }
            if (engine == "edgeagent") (engineAgreement, engineSteps) = CompareEngines(model, data);
        }

        var layerReports = layers.Select(n => new LayerReport(n.DisplayName, n.OpType,
            (ModelStatistics.WeightOf(model.Graph, n, 1)?.ElementCount ?? 0) + (ModelStatistics.WeightOf(model.Graph, n, 2)?.ElementCount ?? 0),
            macs.GetValueOrDefault(n.DisplayName),
            reference is not null && data is not null && refLayers!.ContainsKey(n.DisplayName) && sqnr[n.DisplayName].Count > 0 ? sqnr[n.DisplayName].Decibels : null)).ToList();
        return new ModelReport
        {
            ModelPath = modelPath,
            ReferencePath = referencePath,
            ModelBytes = new FileInfo(modelPath).Length,
            ReferenceBytes = referencePath is null ? null : new FileInfo(referencePath).Length,
            Parameters = ModelStatistics.Parameters(model),
            Macs = macs.Values.Sum(),
            Layers = layerReports,
            Samples = data?.Count ?? 0,
            Engine = engine,
            ReferenceEngine = refEngine,
            Accuracy = accuracy,
            ReferenceAccuracy = refAccuracy,
            Top1Agreement = agreement,
            OutputSqnrDb = outputSqnr,
            LatencyMs = latency,
            ReferenceLatencyMs = refLatency,
            EngineTop1Agreement = engineAgreement,
            EngineMaxDifferenceSteps = engineSteps,
            EngineNote = note,
        };
    }

    /// <summary>Our runtime against ONNX Runtime on the same model: top-1 agreement and the largest difference in output steps.</summary>
    public static (double Agreement, double MaxSteps) CompareEngines(OnnxModel model, SampleSet data)
    {
        using var ours = new OursRunner(model);
        using var ort = new OrtRunner(model);
        var steps = model.Graph.Outputs.Select(o => OutputStep(model.Graph, o.Name)).ToArray();
        int agree = 0;
        double worst = 0;
        for (int s = 0; s < data.Count; s++)
        {
            var a = ours.Run(data.Samples[s]);
            var b = ort.Run(data.Samples[s]);
            if (ArgMax(a[0]) == ArgMax(b[0])) agree++;
            for (int k = 0; k < a.Length; k++)
                for (int i = 0; i < a[k].Length; i++)
                    worst = Math.Max(worst, Math.Abs(a[k][i] - b[k][i]) / steps[k]);
        }
        return (agree / (double)data.Count, worst);
    }

    /// <summary>
    /// Milliseconds per sample of the model and its reference, each in a session of its own with the
    /// engine's optimisations on and no extra outputs: the runners above expose every layer's output
    /// for SQNR, which keeps QDQ pairs from fusing and would time something the device never runs.
    /// Model and reference alternate sample by sample so a busy machine slows both alike.
    /// </summary>
    private static (double Model, double? Reference) MeasureLatency(string engine, OnnxModel model, string? refEngine, OnnxModel? reference, SampleSet data)
    {
        // Enough warm-up runs for tiered JIT to reach the optimised code of both engines: with a handful, the
        // first-timed model paid for compilation and a 2× faster int8 model could time slower than its float reference.
        const int WarmUp = 100, MaxTimed = 200;
        using var runner = engine == "edgeagent" ? (ModelRunner)new OursRunner(model) : new OrtRunner(model);
        using var refRunner = reference is null ? null : refEngine == "edgeagent" ? (ModelRunner)new OursRunner(reference) : new OrtRunner(reference);
        int timed = Math.Min(data.Count, MaxTimed);
        for (int s = 0; s < WarmUp && data.Count > 0; s++) { runner.Run(data.Samples[s % data.Count]); refRunner?.Run(data.Samples[s % data.Count]); }
        var clock = new Stopwatch();
        var refClock = new Stopwatch();
        for (int s = 0; s < timed; s++)
        {
            clock.Start();
            runner.Run(data.Samples[s]);
            clock.Stop();
            if (refRunner is null) continue;
            refClock.Start();
            refRunner.Run(data.Samples[s]);
            refClock.Stop();
        }
        return (clock.Elapsed.TotalMilliseconds / timed, refRunner is null ? null : refClock.Elapsed.TotalMilliseconds / timed);
    }

    // The quantization step of an output produced by DequantizeLinear with a scalar scale. A float output of a
    // quantized layer (the quantizer leaves graph outputs unrounded) has no step of its own: there it is one
    // step of the layer's per-tensor input through its largest weight, the most one input level moves it.
    // Anything else: 1 (absolute difference).
    private static double OutputStep(Graph graph, string output)
    {
        var producer = graph.Producer(output);
        if (producer is { OpType: "DequantizeLinear" } && graph.Initializers.TryGetValue(producer.Inputs[1], out var scale) && scale.ElementCount == 1)
            return scale.GetDouble(0);
        if (producer is { OpType: "Gemm" or "MatMul" or "Conv" } layer && layer.Inputs.Count >= 2
            && graph.Producer(layer.Inputs[0]) is { OpType: "DequantizeLinear" } dqx && graph.Initializers.TryGetValue(dqx.Inputs[1], out var sx) && sx.ElementCount == 1
            && graph.Producer(layer.Inputs[1]) is { OpType: "DequantizeLinear" } dqw && dqw.Inputs.Count >= 2
            && graph.Initializers.TryGetValue(dqw.Inputs[0], out var wq) && wq.DataType == DataType.Int8
            && graph.Initializers.TryGetValue(dqw.Inputs[1], out var sw))
        {
            // Symmetric int8 weights (zero point 0): the largest real weight of a channel is its scale × its largest |q|.
            var (outer, channels, inner) = sw.ElementCount == 1 ? (1, 1, wq.ElementCount)
                : PerChannelQuantizer.Split(wq.ElementCount, wq.Shape, Axis(dqw, wq.Rank));
            var q = wq.Span<sbyte>();
            double largest = 0;
            for (int o = 0; o < outer; o++)
                for (int c = 0; c < channels; c++)
                {
                    int m = 0;
                    foreach (sbyte v in q.Slice((o * channels + c) * inner, inner)) m = Math.Max(m, Math.Abs((int)v));
                    largest = Math.Max(largest, m * sw.GetDouble(sw.ElementCount == 1 ? 0 : c));
                }
            double step = sx.GetDouble(0) * largest;
            if (step > 0 && double.IsFinite(step)) return step;
        }
        return 1.0;
    }

    private static int Axis(Node dq, int rank)
    {
        int axis = (int)dq.GetInt("axis", 1);
        return axis < 0 ? axis + rank : axis;
    }

    // Where the reference holds the value a layer of the model computes: a Conv's own output, or the
    // output of the BatchNormalization after it when quantization folded that BN into the Conv.
    private static string ReferencePoint(Graph refGraph, Node refNode, Graph graph, Node? node)
    {
        var consumers = refGraph.Consumers(refNode.Outputs[0]).ToList();
        bool folded = node is not null && consumers is [{ OpType: "BatchNormalization" }]
                      && !graph.Consumers(node.Outputs[0]).Any(c => c.OpType == "BatchNormalization");
        return folded ? consumers[0].Outputs[0] : refNode.Outputs[0];
    }

    private static ModelRunner Create(string engine, OnnxModel model) =>
        engine == "edgeagent" ? new OursRunner(model, optimize: false) : new OrtRunner(model);

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++) if (names[i] == name) return i;
        return -1;
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
