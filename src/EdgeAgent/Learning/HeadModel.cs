using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Daemon.Learning;

/// <summary>
/// The trainable head of a served bundle as the learner sees it: the manifest's <c>trainable</c> nodes
/// read into a float <see cref="Network"/> (Gemm → Dense, activations as layers; activation Q/DQ pairs,
/// Flatten, Identity and a final Softmax are transparent), and the way back: updated weights written into
/// the same ONNX graph (int8 per-channel where the bundle had int8, growing the last Gemm for new classes)
/// and packed as a new signed bundle. Everything outside the head (the frozen backbone) is copied as is.
/// </summary>
public sealed class HeadModel
{
    private readonly byte[] _bundleBytes;
    private readonly List<GemmBinding> _gemms;

    private HeadModel(byte[] bundleBytes, ModelBundle bundle, Network head, List<GemmBinding> gemms, string embeddingTensor)
    {
        _bundleBytes = bundleBytes;
        Bundle = bundle;
        Head = head;
        _gemms = gemms;
        EmbeddingTensor = embeddingTensor;
    }

    public ModelBundle Bundle { get; }
    public BundleManifest Manifest => Bundle.Manifest;
    /// <summary>The head in float, outputs = logits in <see cref="Labels"/> order.</summary>
    public Network Head { get; }
    public IReadOnlyList<string> Labels => Manifest.Labels;
    /// <summary>The value the head reads: what the reservoir stores as each sample's embedding.</summary>
    public string EmbeddingTensor { get; }

    /// <summary>Where the weights of one Gemm live in the graph.</summary>
    private sealed record GemmBinding(string Node, bool TransB, string Weight, string? WeightScale, string? WeightZeroPoint, string? WeightDequantize,
        string? Bias, string? BiasScale, string? BiasZeroPoint, string? BiasDequantize, int Outputs, int Inputs);

    public static HeadModel Load(string bundlePath)
    {
        var bytes = File.ReadAllBytes(bundlePath);
        var bundle = ModelBundle.Read(bytes);
        string where = $"{bundle.Manifest.Name} {bundle.Manifest.Version} ({bundlePath})";
        var trainable = bundle.Manifest.Trainable
            ?? throw new LearnerException($"{where}: the bundle marks no trainable head (manifest.trainable is absent), so the device must not train it");
        if (bundle.Manifest.Labels.Length == 0) throw new LearnerException($"{where}: the manifest has no class labels; only classifiers can learn from labels");
        var model = ParseModel(bundle, where);
        var graph = model.Graph;
        var layers = new List<Layer>();
        var gemms = new List<GemmBinding>();
        string? embedding = null;
        int features = 0;
        foreach (var nodeName in trainable.Nodes)
        {
            var node = graph.Nodes.FirstOrDefault(n => n.Name == nodeName)
                ?? throw new LearnerException($"{where}: trainable node '{nodeName}' is not in the graph");
            string at = $"{where}: trainable node '{nodeName}' ({node.OpType})";
            switch (node.OpType)
            {
                case "Gemm":
                {
                    var g = BindGemm(graph, node, at);
                    if (embedding is null) { embedding = ActivationSource(graph, node.Inputs[0]); features = g.Inputs; }
                    var dense = new Dense(g.Inputs, g.Outputs);
                    var (w, b) = ReadGemm(graph, g);
                    w.CopyTo(dense.Weight.Value, 0);
                    b.CopyTo(dense.Bias.Value, 0);
                    layers.Add(dense);
                    gemms.Add(g);
                    break;
                }
                case "Relu": layers.Add(new Relu()); break;
                case "LeakyRelu": layers.Add(new LeakyRelu(node.GetFloat("alpha", 0.01f))); break;
                case "HardSwish": layers.Add(new HardSwish()); break;
                case "Sigmoid": layers.Add(new Sigmoid()); break;
                case "Clip":
                    layers.Add(new Clip(ScalarInput(graph, node, 1, float.NegativeInfinity, at), ScalarInput(graph, node, 2, float.PositiveInfinity, at)));
                    break;
                case "QuantizeLinear" or "DequantizeLinear" or "Identity" or "Flatten":
                    // Activation fake-quantization and reshapes of a flat vector do not change what the float head learns.
                    break;
                case "Softmax":
                    if (node != graph.Nodes.Last(n => trainable.Nodes.Contains(n.Name) && n.OpType is not ("QuantizeLinear" or "DequantizeLinear" or "Identity")))
                        throw new LearnerException($"{at}: Softmax is only supported as the head's last operation");
                    break;
                default:
                    throw new LearnerException($"{at}: the on-device learner cannot train this operator (supported: Gemm, Relu, LeakyRelu, HardSwish, Sigmoid, Clip, Q/DQ, Flatten, Identity, final Softmax)");
            }
        }
        if (gemms.Count == 0 || embedding is null) throw new LearnerException($"{where}: the trainable head has no Gemm layer to train");
        var head = new Network([features], layers);
        if (head.Layers[^1] is not Dense) throw new LearnerException($"{where}: the trainable head must end in a Gemm (optionally followed by Softmax)");
        if (head.OutputSize != bundle.Manifest.Labels.Length)
            throw new LearnerException($"{where}: the head has {head.OutputSize} outputs but the manifest names {bundle.Manifest.Labels.Length} labels");
        return new HeadModel(bytes, bundle, head, gemms, embedding);
    }

    /// <summary>
    /// The bundle of the updated head: same graph and backbone, the head's weights replaced (int8 per
    /// output channel where the bundle was quantized, from <paramref name="quantized"/>), the last Gemm
    /// grown to <paramref name="labels"/>, signed by <paramref name="key"/>.
    /// </summary>
    public byte[] WriteUpdated(Network updated, QuantizedHead? quantized, IReadOnlyList<string> labels, string version, BundleSigningKey key, DateTimeOffset now, string producer)
    {
        string where = $"{Manifest.Name} {Manifest.Version} → {version}";
        var model = ParseModel(Bundle, where);
        var graph = model.Graph;
        var dense = updated.Layers.OfType<Dense>().ToList();
        if (dense.Count != _gemms.Count) throw new LearnerException($"{where}: the updated head has {dense.Count} Dense layers, the graph {_gemms.Count} Gemms");
        if (updated.OutputSize != labels.Count) throw new LearnerException($"{where}: the updated head has {updated.OutputSize} outputs for {labels.Count} labels");
        var quantizedByName = quantized?.Weights.ToDictionary(w => w.Name) ?? [];
        for (int i = 0; i < dense.Count; i++)
        {
            var d = dense[i];
            var g = _gemms[i];
            if (d.Inputs != g.Inputs) throw new LearnerException($"{where}: Gemm '{g.Node}' reads {g.Inputs} features, the updated layer {d.Inputs}");
            quantizedByName.TryGetValue(d.Name + ".weight", out var q);
            WriteGemm(graph, g, d, q, where);
        }
        int oldClasses = Manifest.Labels.Length, classes = labels.Count;
        if (classes != oldClasses) ResizeOutputs(graph, oldClasses, classes);
        var modelBytes = OnnxWriter.ToBytes(model);
        var manifest = Manifest with
        {
            Version = version,
            ParentVersion = Manifest.Version,
            Labels = [.. labels],
            Outputs = [.. Manifest.Outputs.Select(o => o with { Shape = ResizeShape(o.Shape, oldClasses, classes) })],
            CreatedUtc = now.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ"),
            Producer = producer,
            ModelSha256 = "",
            ModelBytes = 0,
        };
        return ModelBundle.Create(manifest, modelBytes, key);
    }

    private static OnnxModel ParseModel(ModelBundle bundle, string where)
    {
        if (bundle.Manifest.ModelFormat != "onnx") throw new LearnerException($"{where}: model format '{bundle.Manifest.ModelFormat}' is not onnx");
        try
        {
            return OnnxReader.Load(bundle.Model.ToArray());
        }
        catch (Exception e) when (e is EdgeAgent.Runtime.ModelLoadException or InvalidDataException or NotSupportedException)
        {
            throw new LearnerException($"{where}: the model section does not parse as ONNX: {e.Message}", e);
        }
    }

    /// <summary>The value a Gemm's input really comes from, looking through an activation Q/DQ pair.</summary>
    private static string ActivationSource(Graph graph, string value)
    {
        for (int hops = 0; hops < 4; hops++)
        {
            var producer = graph.Producer(value);
            if (producer is null || producer.OpType is not ("DequantizeLinear" or "QuantizeLinear" or "Flatten" or "Identity")) return value;
            value = producer.Inputs[0];
        }
        return value;
    }

    private static GemmBinding BindGemm(Graph graph, Node node, string at)
    {
        if (node.GetInt("transA", 0) != 0 || node.GetFloat("alpha", 1f) != 1f || node.GetFloat("beta", 1f) != 1f)
            throw new LearnerException($"{at}: only Gemm with transA = 0 and alpha = beta = 1 is trainable");
        bool transB = node.GetInt("transB", 0) != 0;
        var (weight, wScale, wZero, wDq) = Source(graph, node.Inputs[1], DataType.Int8, at, "weight");
        var w = graph.Initializers[weight];
        if (w.Rank != 2) throw new LearnerException($"{at}: weight '{weight}' has rank {w.Rank}, Gemm needs 2");
        int outputs = transB ? w.Shape[0] : w.Shape[1], inputs = transB ? w.Shape[1] : w.Shape[0];
        string? bias = null, bScale = null, bZero = null, bDq = null;
        if (node.InputOrNull(2) is { } c)
        {
            (bias, bScale, bZero, bDq) = Source(graph, c, DataType.Int32, at, "bias");
            if (graph.Initializers[bias].ElementCount != outputs)
                throw new LearnerException($"{at}: bias '{bias}' has {graph.Initializers[bias].ElementCount} values for {outputs} outputs (broadcast biases are not trainable)");
            if (bScale is not null && wScale is null) throw new LearnerException($"{at}: an int32 bias needs int8 weights");
        }
        return new GemmBinding(node.Name, transB, weight, wScale, wZero, wDq, bias, bScale, bZero, bDq, outputs, inputs);
    }

    /// <summary>A float initializer, or an integer initializer behind a DequantizeLinear with a zero zero-point.</summary>
    private static (string Values, string? Scale, string? ZeroPoint, string? Dequantize) Source(Graph graph, string value, DataType integer, string at, string role)
    {
        if (graph.Initializers.TryGetValue(value, out var t))
        {
            if (t.DataType != DataType.Float) throw new LearnerException($"{at}: {role} '{value}' is {t.DataType.ToName()}, expected float or a DequantizeLinear of {integer.ToName()}");
            return (value, null, null, null);
        }
        var dq = graph.Producer(value);
        if (dq is null || dq.OpType != "DequantizeLinear" || !graph.Initializers.TryGetValue(dq.Inputs[0], out var q) || q.DataType != integer
            || dq.InputOrNull(1) is not { } scale || !graph.Initializers.ContainsKey(scale))
            throw new LearnerException($"{at}: {role} '{value}' is neither a float initializer nor a DequantizeLinear of a {integer.ToName()} initializer");
        string? zero = dq.InputOrNull(2);
        if (zero is not null)
        {
            var z = graph.Initializers.GetValueOrDefault(zero) ?? throw new LearnerException($"{at}: {role} zero point '{zero}' is not an initializer");
            foreach (byte b in z.Bytes) if (b != 0) throw new LearnerException($"{at}: {role} zero point '{zero}' is not zero (only symmetric weights are trainable)");
        }
        return (dq.Inputs[0], scale, zero, dq.Name);
    }

    private static (float[] Weights, float[] Bias) ReadGemm(Graph graph, GemmBinding g)
    {
        var wt = graph.Initializers[g.Weight];
        var raw = new float[g.Outputs * g.Inputs];
        if (g.WeightScale is null) wt.Span<float>().CopyTo(raw);
        else
        {
            var q = wt.Span<sbyte>();
            var s = graph.Initializers[g.WeightScale].Span<float>();
            for (int i = 0; i < raw.Length; i++)
            {
                int outChannel = g.TransB ? i / g.Inputs : i % g.Outputs;
                raw[i] = q[i] * (s.Length == 1 ? s[0] : s[outChannel]);
            }
        }
        var w = g.TransB ? raw : Transpose(raw, g.Inputs, g.Outputs);
        var bias = new float[g.Outputs];
        if (g.Bias is not null)
        {
            var bt = graph.Initializers[g.Bias];
            if (g.BiasScale is null) bt.Span<float>().CopyTo(bias);
            else
            {
                var bq = bt.Span<int>();
                var bs = graph.Initializers[g.BiasScale].Span<float>();
                for (int o = 0; o < bias.Length; o++) bias[o] = bq[o] * (bs.Length == 1 ? bs[0] : bs[o]);
            }
        }
        return (w, bias);
    }

    private static void WriteGemm(Graph graph, GemmBinding g, Dense d, QuantizedWeight? q, string where)
    {
        int outputs = d.Outputs, inputs = d.Inputs;
        int[] shape = g.TransB ? [outputs, inputs] : [inputs, outputs];
        float[] scales;
        if (g.WeightScale is null)
        {
            var values = g.TransB ? d.Weight.Value : Transpose(d.Weight.Value, outputs, inputs);
            graph.Initializers[g.Weight] = Tensor.FromArray<float>(values, shape);
            scales = [];
        }
        else
        {
            sbyte[] rows;
            if (q is not null && q.Values.Length == outputs * inputs) { rows = q.Values; scales = q.Scales; }
            else (rows, scales) = QuantizeRows(d.Weight.Value, outputs, inputs);
            var values = g.TransB ? rows : Transpose(rows, outputs, inputs);
            graph.Initializers[g.Weight] = Tensor.FromArray<sbyte>(values, shape);
            // Always per output channel: the learner's quantizer is, and a grown head has new channels.
            graph.Initializers[g.WeightScale] = Tensor.FromArray<float>(scales, outputs);
            if (g.WeightZeroPoint is not null) graph.Initializers[g.WeightZeroPoint] = Tensor.FromArray<sbyte>(new sbyte[outputs], outputs);
            var dq = graph.Nodes.First(n => n.Name == g.WeightDequantize);
            dq.Attributes.RemoveAll(a => a.Name == "axis");
            dq.With(NodeAttribute.Of("axis", g.TransB ? 0L : 1L));
        }
        if (g.Bias is null) return;
        if (g.BiasScale is null)
        {
            graph.Initializers[g.Bias] = Tensor.FromArray<float>(d.Bias.Value, outputs);
            return;
        }
        // An int32 bias is scaled by input scale × weight scale; the input scale is the layer's, unchanged.
        var oldBiasScale = graph.Initializers[g.BiasScale].Span<float>();
        float inputScale = InputScale(graph, g, oldBiasScale, where);
        var bq = new int[outputs];
        var bs = new float[outputs];
        for (int o = 0; o < outputs; o++)
        {
            bs[o] = inputScale * scales[o];
            double v = bs[o] > 0 ? Math.Round(d.Bias.Value[o] / (double)bs[o], MidpointRounding.ToEven) : 0;
            bq[o] = (int)Math.Clamp(v, int.MinValue, int.MaxValue);
        }
        graph.Initializers[g.Bias] = Tensor.FromArray<int>(bq, outputs);
        graph.Initializers[g.BiasScale] = Tensor.FromArray<float>(bs, outputs);
        if (g.BiasZeroPoint is not null) graph.Initializers[g.BiasZeroPoint] = Tensor.FromArray<int>(new int[outputs], outputs);
        var bdq = graph.Nodes.First(n => n.Name == g.BiasDequantize);
        bdq.Attributes.RemoveAll(a => a.Name == "axis");
        bdq.With(NodeAttribute.Of("axis", 0L));
    }

    /// <summary>The Gemm's input activation scale: from the DequantizeLinear feeding it, else bias scale ÷ weight scale.</summary>
    private static float InputScale(Graph graph, GemmBinding g, ReadOnlySpan<float> oldBiasScale, string where)
    {
        var node = graph.Nodes.First(n => n.Name == g.Node);
        if (graph.Producer(node.Inputs[0]) is { OpType: "DequantizeLinear" } dq && dq.InputOrNull(1) is { } s
            && graph.Initializers.TryGetValue(s, out var st) && st.ElementCount == 1)
            return st.Span<float>()[0];
        throw new LearnerException($"{where}: Gemm '{g.Node}' has an int32 bias but its input is not a per-tensor DequantizeLinear, so its input scale is unknown (old bias scale {oldBiasScale[0]})");
    }

    private static (sbyte[] Values, float[] Scales) QuantizeRows(float[] w, int rows, int columns)
    {
        var q = new sbyte[w.Length];
        var scales = new float[rows];
        for (int r = 0; r < rows; r++)
        {
            var row = w.AsSpan(r * columns, columns);
            float max = 0;
            foreach (float v in row) max = MathF.Max(max, MathF.Abs(v));
            float scale = max > 0 ? max / 127f : 1f;
            scales[r] = scale;
            for (int i = 0; i < columns; i++) q[r * columns + i] = (sbyte)Math.Clamp((int)MathF.Round(row[i] / scale, MidpointRounding.ToEven), -127, 127);
        }
        return (q, scales);
    }

    private static T[] Transpose<T>(T[] source, int rows, int columns)
    {
        var t = new T[source.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) t[c * rows + r] = source[r * columns + c];
        return t;
    }

    private static float ScalarInput(Graph graph, Node node, int index, float fallback, string at)
    {
        if (node.InputOrNull(index) is not { } name) return fallback;
        if (!graph.Initializers.TryGetValue(name, out var t) || t.DataType != DataType.Float || t.ElementCount != 1)
            throw new LearnerException($"{at}: input {index} ('{name}') must be a float scalar initializer");
        return t.Span<float>()[0];
    }

    /// <summary>A class-incremental update changes the class dimension everywhere it is declared after the head.</summary>
    private static void ResizeOutputs(Graph graph, int oldClasses, int classes)
    {
        foreach (var info in graph.Outputs)
            if (info.Shape is { Count: > 0 } s && s[^1].Value == oldClasses)
                info.Shape = [.. s.Take(s.Count - 1), Dim.Known(classes)];
        // Intermediate shape hints of the head would now be wrong; they are optional, so drop them.
        graph.ValueInfos.RemoveAll(v => v.Shape is { Count: > 0 } s && s[^1].Value == oldClasses);
    }

    private static long[] ResizeShape(long[] shape, int oldClasses, int classes) =>
        shape.Length > 0 && shape[^1] == oldClasses ? [.. shape[..^1], classes] : shape;
}

/// <summary>The learner cannot work with a model or a configuration; the message names what is wrong.</summary>
public sealed class LearnerException(string message, Exception? inner = null) : Exception(message, inner);
