namespace EdgeAgent.Runtime.Training;

/// <summary>
/// The inverse of <see cref="Network.ToOnnxGraph"/>: a float ONNX chain (each node consuming the one
/// before) becomes a trainable <see cref="Network"/>, so <c>exporter finetune</c>/<c>distill</c> can train a
/// model they loaded. A trailing Softmax is dropped (training works on logits) and reported.
/// </summary>
public static class OnnxGraphImport
{
    public static Network ToNetwork(OnnxGraphSpec graph, out bool endsWithSoftmax)
    {
        var constants = graph.Initializers.ToDictionary(i => i.Name);
        var layers = new List<Layer>();
        string value = graph.InputName;
        endsWithSoftmax = false;
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            var node = graph.Nodes[i];
            string where = $"node {i} '{node.Name}' ({node.OpType})";
            if (node.Inputs.Count == 0 || node.Inputs[0] != value)
                throw new NotSupportedException($"{where}: only chains are trainable; it reads '{(node.Inputs.Count > 0 ? node.Inputs[0] : "")}', expected '{value}'");
            if (endsWithSoftmax) throw new NotSupportedException($"{where}: Softmax is only supported as the last node");
            if (node.Outputs.Count != 1) throw new NotSupportedException($"{where}: {node.Outputs.Count} outputs; a trainable layer has one");
            value = node.Outputs[0];
            if (node.OpType == "Softmax") { endsWithSoftmax = true; continue; }
            var layer = Create(node, where, constants);
            if (node.Name.Length > 0) layer.Name = node.Name;
            layers.Add(layer);
        }
        if (value != graph.OutputName) throw new NotSupportedException($"the chain ends in '{value}', the graph output is '{graph.OutputName}'");
        if (layers.Count == 0) throw new NotSupportedException("the graph has no trainable layer");
        return new Network(graph.InputShape, layers);
    }

    private static Layer Create(OnnxNodeSpec node, string where, Dictionary<string, OnnxInitializerSpec> constants)
    {
        OnnxInitializerSpec Const(int index, string what)
        {
            if (index >= node.Inputs.Count || node.Inputs[index].Length == 0) throw new NotSupportedException($"{where}: missing input {index} ({what})");
            return constants.TryGetValue(node.Inputs[index], out var c) ? c
                : throw new NotSupportedException($"{where}: {what} '{node.Inputs[index]}' must be an initializer");
        }
        OnnxInitializerSpec? Optional(int index) =>
            index < node.Inputs.Count && node.Inputs[index].Length > 0 && constants.TryGetValue(node.Inputs[index], out var c) ? c : null;
        long Int(string name, long fallback) => node.Attributes.FirstOrDefault(a => a.Name == name)?.Int ?? fallback;
        float Float(string name, float fallback) => node.Attributes.FirstOrDefault(a => a.Name == name)?.Float ?? fallback;
        long[]? Ints(string name) => node.Attributes.FirstOrDefault(a => a.Name == name)?.Ints;

        switch (node.OpType)
        {
            case "Gemm":
            {
                if (Int("transA", 0) != 0 || Float("alpha", 1f) != 1f || Float("beta", 1f) != 1f)
                    throw new NotSupportedException($"{where}: only Gemm with transA = 0, alpha = beta = 1 is trainable");
                var w = Const(1, "weight");
                bool transB = Int("transB", 0) == 1;
                int outputs = transB ? w.Shape[0] : w.Shape[1], inputs = transB ? w.Shape[1] : w.Shape[0];
                var dense = new Dense(inputs, outputs);
                for (int o = 0; o < outputs; o++)
                    for (int k = 0; k < inputs; k++)
                        dense.Weight.Value[o * inputs + k] = transB ? w.Data[o * inputs + k] : w.Data[k * outputs + o];
                var b = Optional(2);
                if (b is not null)
                {
                    if (b.Data.Length != outputs) throw new NotSupportedException($"{where}: bias has {b.Data.Length} values for {outputs} outputs (broadcast biases are not trainable)");
                    b.Data.CopyTo(dense.Bias.Value, 0);
                }
                return dense;
            }
            case "Conv":
            {
                var w = Const(1, "weight");
                var b = Optional(2);
                int group = (int)Int("group", 1), rank = w.Shape.Length - 2;
                long[] kernel = Ints("kernel_shape") ?? w.Shape[2..].Select(d => (long)d).ToArray();
                long[] strides = Ints("strides") ?? Enumerable.Repeat(1L, rank).ToArray();
                long[] dilations = Ints("dilations") ?? Enumerable.Repeat(1L, rank).ToArray();
                long[] pads = Ints("pads") ?? new long[2 * rank];
                var autoPad = node.Attributes.FirstOrDefault(a => a.Name == "auto_pad")?.String;
                if (autoPad is not null and not "NOTSET") throw new NotSupportedException($"{where}: auto_pad={autoPad}; export with explicit pads");
                for (int d = 0; d < rank; d++)
                    if (pads[d] != pads[d + rank]) throw new NotSupportedException($"{where}: asymmetric pads [{string.Join(',', pads)}] are not trainable");
                int outC = w.Shape[0], inC = w.Shape[1] * group;
                Layer conv = rank switch
                {
                    2 => new Conv2d(inC, outC, (int)kernel[0], (int)kernel[1], (int)strides[0], (int)strides[1], (int)pads[0], (int)pads[1], group,
                        (int)dilations[0], (int)dilations[1], bias: b is not null),
                    1 => new Conv1d(inC, outC, (int)kernel[0], (int)strides[0], (int)pads[0], group, (int)dilations[0], bias: b is not null),
                    _ => throw new NotSupportedException($"{where}: {rank}-D convolution is not trainable (1-D and 2-D are)"),
                };
                w.Data.CopyTo(conv.Parameters[0].Value, 0);
                b?.Data.CopyTo(conv.Parameters[1].Value, 0);
                return conv;
            }
            case "MaxPool" or "AveragePool":
            {
                var k = Ints("kernel_shape") ?? throw new NotSupportedException($"{where}: kernel_shape is required");
                var s = Ints("strides") ?? k;
                var p = Ints("pads") ?? new long[4];
                if (k.Length != 2 || k[0] != k[1] || s[0] != s[1] || p.Distinct().Count() > 1)
                    throw new NotSupportedException($"{where}: only square 2-D windows with equal strides and pads are trainable");
                if (Int("ceil_mode", 0) != 0) throw new NotSupportedException($"{where}: ceil_mode = 1 is not trainable");
                if (node.OpType == "AveragePool" && Int("count_include_pad", 0) != 0 && p[0] != 0)
                    throw new NotSupportedException($"{where}: count_include_pad = 1 with padding is not trainable");
                return node.OpType == "MaxPool" ? new MaxPool2d((int)k[0], (int)s[0], (int)p[0]) : new AvgPool2d((int)k[0], (int)s[0], (int)p[0]);
            }
            case "GlobalAveragePool": return new GlobalAvgPool();
            case "Relu": return new Relu();
            case "Sigmoid": return new Sigmoid();
            case "HardSwish": return new HardSwish();
            case "LeakyRelu": return new LeakyRelu(Float("alpha", 0.01f));
            case "Clip":
            {
                float min = Optional(1)?.Data[0] ?? Float("min", float.NegativeInfinity);
                float max = Optional(2)?.Data[0] ?? Float("max", float.PositiveInfinity);
                return new Clip(min, max);
            }
            case "Flatten":
                if (Int("axis", 1) != 1) throw new NotSupportedException($"{where}: only Flatten with axis = 1 is trainable");
                return new Flatten();
            case "BatchNormalization":
            {
                var scale = Const(1, "scale");
                var bn = new BatchNorm(scale.Data.Length, Float("epsilon", 1e-5f), 1f - Float("momentum", 0.9f));
                scale.Data.CopyTo(bn.Scale.Value, 0);
                Const(2, "bias").Data.CopyTo(bn.Shift.Value, 0);
                Const(3, "mean").Data.CopyTo(bn.RunningMean, 0);
                Const(4, "variance").Data.CopyTo(bn.RunningVar, 0);
                return bn;
            }
            default:
                throw new NotSupportedException($"{where}: no trainable layer for this operator (supported: Gemm, Conv, MaxPool, AveragePool, GlobalAveragePool, " +
                    "Relu, Clip, LeakyRelu, HardSwish, Sigmoid, BatchNormalization, Flatten, trailing Softmax)");
        }
    }
}
