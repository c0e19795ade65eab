using EdgeAgent.Compression.Data;
using EdgeAgent.Runtime.Execution;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Compression.Quantization;

/// <summary>
/// Static post-training quantization to the standard QDQ form that ONNX Runtime and our runtime both
/// run: Conv, Gemm and MatMul get int8 weights (symmetric, per output channel unless asked otherwise)
/// through DequantizeLinear, int32 biases with scale input scale × weight scale, and
/// QuantizeLinear→DequantizeLinear pairs on their activation inputs and outputs (after a directly
/// following Relu), with ranges calibrated on sample data. BatchNormalization after a Conv or Gemm is folded
/// into it first, by the runtime's own fold (<see cref="BatchNormFolding"/>), so both see the same weights.
/// </summary>
public static class QdqQuantizer
{
    private static readonly HashSet<string> s_quantizable = new(StringComparer.Ordinal) { "Conv", "Gemm", "MatMul" };

    public static QuantizationResult Quantize(OnnxModel model, SampleSet calibration, QuantizeOptions options)
    {
        var graph = model.Graph;
        var foldedBatchNorms = BatchNormFolding.Fold(graph, options.Exclude);
        var plan = PlanNodes(graph, options);
        if (plan.Count == 0) throw new InvalidOperationException("the model has no Conv, Gemm or MatMul with constant weights to quantize (or all are excluded)");

        var activationTensors = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in plan)
        {
            activationTensors.Add(p.Input);
            if (p.OutputPoint is not null) activationTensors.Add(p.OutputPoint);
        }
        var stats = Calibrate(model, calibration, activationTensors, options);

        var activation = new Dictionary<string, AffineParameters>(StringComparer.Ordinal);
        foreach (var name in activationTensors)
        {
            var s = stats[name];
            if (!s.HasRange) throw new InvalidOperationException($"tensor '{name}' produced no finite values during calibration");
            // A model output has nothing downstream to absorb clipping, so it keeps its full range.
            var method = graph.Outputs.Any(o => o.Name == name) ? CalibrationMethod.MinMax : options.Method;
            var (min, max) = s.Range(method, options.Activations);
            activation[name] = AffineParameters.FromRange(min, max, options.Activations);
        }

        if (model.OnnxOpset < 13)
        {
            // Per-channel DequantizeLinear (the axis attribute) needs opset 13.
            for (int i = 0; i < model.Opsets.Count; i++)
                if (model.Opsets[i].Domain is "" or "ai.onnx") model.Opsets[i] = model.Opsets[i] with { Version = 13 };
        }

        // Bias correction compares each layer's output with the float model's, so keep the float graph as it is now
        // (BatchNormalization folded, nothing quantized yet): the layer outputs have the same names in both.
        var reference = options.BiasCorrection ? model.Copy(validate: false) : null;
        var names = new QdqNames(graph);
        var weightCache = new Dictionary<string, (string Dq, float[] Scales)>(StringComparer.Ordinal);
        var layers = new List<QuantizedLayerInfo>();
        var corrections = new List<(Node Node, BiasCorrection.Layer Layer)>();
        foreach (var p in plan)
        {
            var node = p.Node;
            var (dq, scales) = QuantizeWeight(graph, node, p.WeightAxis, options, weightCache, names);
            node.Inputs[1] = dq;
            string? biasName = node.InputOrNull(2);
            if (biasName is not null && p.QuantizeBias)
            {
                var (biasDq, biasValues, biasScales) = QuantizeBias(graph, node, biasName, activation[p.Input].Scale, scales, names);
                node.Inputs[2] = biasDq;
                corrections.Add((node, new BiasCorrection.Layer(node.DisplayName, node.Outputs[0], node.Outputs[0], biasValues, biasScales, node.OpType == "Conv" ? 1 : -1)));
            }
            layers.Add(new QuantizedLayerInfo(node.DisplayName, node.OpType, node.Outputs[0], p.OutputPoint, activation[p.Input],
                                              p.OutputPoint is null ? null : activation[p.OutputPoint], scales.Length));
        }
        var zeroPoints = new Dictionary<(QuantizedType, int), string>();
        var scaleNames = new Dictionary<int, string>();
        // Graph order, so that names and the sharing of equal parameters do not depend on hash-set order.
        foreach (var name in OrderOfFirstUse(graph, activationTensors))
            InsertQdq(graph, name, activation[name], options.Activations, names, zeroPoints, scaleNames);
        RemoveUnusedInitializers(graph);
        RemoveStaleValueInfo(graph);
        graph.SortTopologically();

        long largestCorrection = 0;
        if (reference is not null && corrections.Count > 0)
        {
            // A graph output's producer now writes "<name>.f"; the float model still calls it "<name>".
            var renamed = corrections.Select(c => c.Layer with { QuantizedOutput = c.Node.Outputs[0] }).ToList();
            largestCorrection = BiasCorrection.Apply(reference, model, renamed, calibration,
                (done, total) => options.Progress?.Invoke(3, done, total));
        }
        return new QuantizationResult(layers, activation, foldedBatchNorms) { BiasCorrectedLayers = reference is null ? 0 : corrections.Count, LargestBiasCorrection = largestCorrection };
    }

    /// <summary>The activation tensors in the order the graph first mentions them (inputs, then node by node).</summary>
    private static List<string> OrderOfFirstUse(Graph graph, HashSet<string> tensors)
    {
        var order = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Visit(string name) { if (tensors.Contains(name) && seen.Add(name)) order.Add(name); }
        foreach (var i in graph.Inputs) Visit(i.Name);
        foreach (var n in graph.Nodes)
        {
            foreach (var i in n.Inputs) Visit(i);
            foreach (var o in n.Outputs) Visit(o);
        }
        foreach (var t in tensors.Order(StringComparer.Ordinal)) Visit(t);
        return order;
    }

    /// <summary>A layer to quantize; <paramref name="OutputPoint"/> is where its output gets Q→DQ (null: it stays float).</summary>
    private sealed record NodePlan(Node Node, string Input, string? OutputPoint, int WeightAxis, bool QuantizeBias);

    private static List<NodePlan> PlanNodes(Graph graph, QuantizeOptions options)
    {
        var plans = new List<NodePlan>();
        var graphOutputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        foreach (var node in graph.Nodes)
        {
            if (!s_quantizable.Contains(node.OpType) || node.Domain is not ("" or "ai.onnx")) continue;
            if (options.Exclude.Contains(node.Name)) continue;
            if (node.InputOrNull(1) is not { } w || !graph.Initializers.TryGetValue(w, out var weight) || weight.DataType != DataType.Float) continue;
            int axis;
            bool bias = true;
            switch (node.OpType)
            {
                case "Conv": axis = 0; break;
                case "Gemm":
                    if (node.GetInt("transA", 0) != 0 || weight.Rank != 2) continue;
                    axis = node.GetInt("transB", 0) != 0 ? 0 : 1;
                    // The int32 bias must equal input scale × weight scale; alpha/beta would break that.
                    bias = node.GetFloat("alpha", 1f) == 1f && node.GetFloat("beta", 1f) == 1f &&
                           node.InputOrNull(2) is { } c && graph.Initializers.TryGetValue(c, out var ct) && ct.Rank == 1 && ct.DataType == DataType.Float;
                    break;
                default: // MatMul
                    if (weight.Rank != 2) continue;
                    axis = 1;
                    break;
            }
            if (node.OpType == "Conv" && node.InputOrNull(2) is { } cb && !(graph.Initializers.TryGetValue(cb, out var cbt) && cbt.DataType == DataType.Float)) bias = false;
            string output = node.Outputs[0];
            var consumers = graph.Consumers(output).ToList();
            if (consumers.Count == 1 && consumers[0].OpType == "Relu" && !graphOutputs.Contains(output) && !options.Exclude.Contains(consumers[0].Name))
                output = consumers[0].Outputs[0];
            // A float graph output is only read by whoever runs the model: rounding it to 8 bits would just add a
            // step of noise to the scores (two close logits collapse onto one level and the top-1 flips).
            bool floatOutput = !options.QuantizeGraphOutputs && graphOutputs.Contains(output);
            plans.Add(new NodePlan(node, node.Inputs[0], floatOutput ? null : output, axis, bias));
        }
        return plans;
    }

    private static Dictionary<string, ActivationStatistics> Calibrate(OnnxModel model, SampleSet samples, IReadOnlyCollection<string> tensors, QuantizeOptions options)
    {
        var stats = tensors.ToDictionary(t => t, _ => new ActivationStatistics(), StringComparer.Ordinal);
        var collector = new ActivationCollector(model, tensors);
        int passes = options.Method == CalibrationMethod.MinMax ? 1 : 2;
        collector.Run(samples, (i, values) =>
        {
            foreach (var (name, s) in stats) s.ObserveRange(Floats(values, name));
            options.Progress?.Invoke(1, i + 1, samples.Count * passes);
        });
        if (passes == 2)
        {
            collector.Run(samples, (i, values) =>
            {
                foreach (var (name, s) in stats) s.ObserveHistogram(Floats(values, name));
                options.Progress?.Invoke(2, samples.Count + i + 1, samples.Count * passes);
            });
        }
        return stats;
    }

    private static ReadOnlySpan<float> Floats(IReadOnlyDictionary<string, Tensor> values, string name)
    {
        if (!values.TryGetValue(name, out var t)) throw new InvalidOperationException($"tensor '{name}' was not produced during calibration");
        if (t.DataType != DataType.Float) throw new InvalidOperationException($"tensor '{name}' is {t.DataType.ToName()}, only float32 activations can be quantized");
        return t.Span<float>();
    }

    private static (string Dq, float[] Scales) QuantizeWeight(Graph graph, Node node, int axis, QuantizeOptions options,
                                                              Dictionary<string, (string Dq, float[] Scales)> cache, QdqNames names)
    {
        string name = node.Inputs[1];
        if (cache.TryGetValue(name, out var done)) return done;
        var w = graph.Initializers[name];
        var shape = w.Shape.ToArray();
        sbyte[] q;
        float[] scales;
        if (options.PerTensorWeights)
        {
            (q, scales) = PerTensor(w.Span<float>());
        }
        else (q, scales) = PerChannelQuantizer.QuantizeSymmetric(w.Span<float>(), shape, axis);

        string stem = QdqNames.LayerStem(node, name);
        string qName = names.Take(stem + ".wq");
        string sName = names.Take(stem + ".ws");
        string dqName = names.Take(stem + ".w");
        graph.Initializers[qName] = Tensor.FromArray<sbyte>(q, shape);
        graph.Initializers[sName] = options.PerTensorWeights ? Tensor.Scalar(scales[0]) : Tensor.FromArray<float>(scales, scales.Length);
        // Symmetric weights have zero point 0, which is what DequantizeLinear assumes when the input is
        // omitted (with the type of the int8 data), so no zero-point tensor is stored.
        var dq = new Node("DequantizeLinear", [qName, sName], [dqName], names.Take("DQ:" + dqName));
        if (!options.PerTensorWeights) dq.With(NodeAttribute.Of("axis", (long)axis));
        graph.Nodes.Add(dq);
        cache[name] = (dqName, scales);
        return (dqName, scales);
    }

    private static (sbyte[], float[]) PerTensor(ReadOnlySpan<float> w)
    {
        float max = 0;
        foreach (var v in w) max = MathF.Max(max, MathF.Abs(v));
        var p = AffineParameters.Symmetric(max);
        var q = new sbyte[w.Length];
        for (int i = 0; i < q.Length; i++) q[i] = (sbyte)Math.Clamp(p.Quantize(w[i], QuantizedType.Int8), -127, 127);
        return (q, [p.Scale]);
    }

    /// <summary>The bias as int32 behind a DequantizeLinear (scale input scale × weight scale, zero point omitted: 0).</summary>
    private static (string Dq, string Values, float[] Scales) QuantizeBias(Graph graph, Node node, string biasName, float inputScale, float[] weightScales, QdqNames names)
    {
        var b = graph.Initializers[biasName];
        var values = b.Span<float>();
        var scales = weightScales.Length == 1 ? Enumerable.Repeat(weightScales[0], values.Length).ToArray() : weightScales;
        if (scales.Length != values.Length)
            throw new InvalidOperationException($"node '{node.DisplayName}': bias '{biasName}' has {values.Length} values for {scales.Length} output channels");
        var (q, s) = PerChannelQuantizer.QuantizeBias(values, inputScale, scales);
        string stem = QdqNames.LayerStem(node, biasName);
        string qName = names.Take(stem + ".bq");
        string sName = names.Take(stem + ".bs");
        string dqName = names.Take(stem + ".b");
        graph.Initializers[qName] = Tensor.FromArray<int>(q, q.Length);
        graph.Initializers[sName] = Tensor.FromArray<float>(s, s.Length);
        graph.Nodes.Add(new Node("DequantizeLinear", [qName, sName], [dqName], names.Take("DQ:" + dqName))
            .With(NodeAttribute.Of("axis", 0L)));
        return (dqName, qName, s);
    }

    /// <summary>
    /// Puts Q→DQ on <paramref name="tensor"/>: consumers read the dequantized value. A graph output keeps
    /// its name: the producer's output is renamed "&lt;name&gt;.f" and the DQ produces the output. Tensors
    /// with bit-identical scales share one scale initializer, and equal zero points share one.
    /// </summary>
    private static void InsertQdq(Graph graph, string tensor, AffineParameters p, QuantizedType type, QdqNames names,
                                  Dictionary<(QuantizedType, int), string> zeroPoints, Dictionary<int, string> scales)
    {
        int scaleBits = BitConverter.SingleToInt32Bits(p.Scale);
        if (!scales.TryGetValue(scaleBits, out var scale))
        {
            scales[scaleBits] = scale = names.Take(tensor + ".s");
            graph.Initializers[scale] = Tensor.Scalar(p.Scale);
        }
        // Activations keep their zero point even when it is 0: without it DequantizeLinear would mean uint8,
        // and the fused int8 kernels read the activation type from it.
        if (!zeroPoints.TryGetValue((type, p.ZeroPoint), out var zero))
        {
            zeroPoints[(type, p.ZeroPoint)] = zero = names.Take(QdqNames.ZeroPointStem(type, p.ZeroPoint));
            graph.Initializers[zero] = type == QuantizedType.UInt8 ? Tensor.Scalar((byte)p.ZeroPoint) : Tensor.Scalar((sbyte)p.ZeroPoint);
        }
        string quantized = names.Take(tensor + ".q");
        bool isOutput = graph.Outputs.Any(o => o.Name == tensor);
        string source = tensor, result;
        var consumers = graph.Consumers(tensor).ToList();
        if (isOutput)
        {
            source = names.Take(tensor + ".f");
            foreach (var n in graph.Nodes)
                for (int k = 0; k < n.Outputs.Count; k++) if (n.Outputs[k] == tensor) n.Outputs[k] = source;
            foreach (var c in consumers)
                for (int k = 0; k < c.Inputs.Count; k++) if (c.Inputs[k] == tensor) c.Inputs[k] = source;
            result = tensor;
            consumers.Clear(); // they keep reading the float value under its new name
        }
        else result = names.Take(tensor + ".dq");
        graph.Nodes.Add(new Node("QuantizeLinear", [source, scale, zero], [quantized], names.Take("Q:" + tensor)));
        graph.Nodes.Add(new Node("DequantizeLinear", [quantized, scale, zero], [result], names.Take("DQ:" + tensor)));
        foreach (var c in consumers)
            for (int k = 0; k < c.Inputs.Count; k++) if (c.Inputs[k] == tensor) c.Inputs[k] = result;
    }

    /// <summary>Shape annotations of values no node produces any more (the folded BatchNormalization outputs, say).</summary>
    private static void RemoveStaleValueInfo(Graph graph)
    {
        var produced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in graph.Nodes) produced.UnionWith(n.Outputs);
        graph.ValueInfos.RemoveAll(v => !produced.Contains(v.Name));
    }

    private static void RemoveUnusedInitializers(Graph graph)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in graph.Nodes) used.UnionWith(n.Inputs);
        foreach (var o in graph.Outputs) used.Add(o.Name);
        foreach (var name in graph.Initializers.Keys.ToList())
        {
            if (used.Contains(name)) continue;
            graph.Initializers.Remove(name);
            graph.Inputs.RemoveAll(i => i.Name == name); // pre-IR-4 models list initializers as inputs too
        }
    }
}

/// <summary>What quantization did to one layer, for reports.</summary>
public sealed record QuantizedLayerInfo(string Node, string OpType, string Output, string? OutputPoint,
                                        AffineParameters Input, AffineParameters? OutputParameters, int WeightScales);

/// <summary>The quantized layers, the activation ranges, and the BatchNormalization nodes folded into their Conv or Gemm first.</summary>
public sealed record QuantizationResult(IReadOnlyList<QuantizedLayerInfo> Layers, IReadOnlyDictionary<string, AffineParameters> Activations,
                                        IReadOnlyList<string> FoldedBatchNorms)
{
    /// <summary>Layers whose int32 bias was corrected (<see cref="QuantizeOptions.BiasCorrection"/>); 0 when it was off.</summary>
    public int BiasCorrectedLayers { get; init; }
    /// <summary>The largest change bias correction made to one bias value, in units of that bias's scale.</summary>
    public long LargestBiasCorrection { get; init; }
}
