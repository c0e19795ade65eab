using EdgeAgent.Checks.Runtime;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Tests;

/// <summary>
/// Quantized (QDQ) models built in code the way our quantizer and ONNX Runtime's write them: u8 activations
/// through QuantizeLinear → DequantizeLinear, s8 weights per output channel, int32 bias with scale sx·sw.
/// </summary>
internal static class QdqTestModels
{
    public const float InputScale = 0.02f, OutputScale = 0.05f;
    public const byte InputZeroPoint = 128, OutputZeroPoint = 60;

    /// <summary>x[1,C,H,W] (or [1,C,W] when <paramref name="height"/> is 0) → QDQ Conv [→ activation] → QDQ → y.</summary>
    public static OnnxModel Conv(int channels, int height, int width, int outChannels, int kernel, int stride, int pad, int group,
        string activation = "Relu", int seed = 1)
    {
        bool twoD = height > 0;
        int[] xShape = twoD ? [1, channels, height, width] : [1, channels, width];
        int cg = channels / group;
        int[] wShape = twoD ? [outChannels, cg, kernel, kernel] : [outChannels, cg, kernel];
        int taps = twoD ? kernel * kernel : kernel;
        int oh = twoD ? (height + 2 * pad - kernel) / stride + 1 : 1, ow = (width + 2 * pad - kernel) / stride + 1;
        int[] yShape = twoD ? [1, outChannels, oh, ow] : [1, outChannels, ow];
        var g = new Graph { Name = "qdq_conv" };
        g.Inputs.Add(ValueInfo.Of("x", DataType.Float, xShape));
        g.Outputs.Add(ValueInfo.Of("y", DataType.Float, yShape));
        var (w, sw) = Weights(outChannels, cg * taps, seed);
        g.Initializers["w_q"] = Tensor.FromArray<sbyte>(w, wShape);
        AddActivationAndWeightParameters(g, sw);
        g.Initializers["b_q"] = Tensor.FromArray<int>(TestModels.Random(outChannels, seed + 7, 400).Select(v => (int)v).ToArray(), outChannels);
        g.Initializers["b_s"] = Tensor.FromArray<float>(sw.Select(s => InputScale * s).ToArray(), outChannels);
        g.Initializers["b_z"] = Tensor.FromArray<int>(new int[outChannels], outChannels);
        var attributes = new List<NodeAttribute>
        {
            NodeAttribute.Of("group", (long)group),
            NodeAttribute.Of("strides", twoD ? new long[] { stride, stride } : [stride]),
            NodeAttribute.Of("pads", twoD ? new long[] { pad, pad, pad, pad } : [pad, pad]),
        };
        AddQdqChain(g, "Conv", ["x_dq", "w_dq", "b_dq"], attributes, activation);
        return OnnxModel.Create(g, 17);
    }

    /// <summary>x[rows,K] → QDQ Gemm(transB) [→ activation] → QDQ → y.</summary>
    public static OnnxModel Gemm(int rows, int k, int n, string activation = "Relu", int seed = 3)
    {
        var g = new Graph { Name = "qdq_gemm" };
        g.Inputs.Add(ValueInfo.Of("x", DataType.Float, rows, k));
        g.Outputs.Add(ValueInfo.Of("y", DataType.Float, rows, n));
        var (w, sw) = Weights(n, k, seed);
        g.Initializers["w_q"] = Tensor.FromArray<sbyte>(w, n, k);
        AddActivationAndWeightParameters(g, sw);
        g.Initializers["b_q"] = Tensor.FromArray<int>(TestModels.Random(n, seed + 7, 400).Select(v => (int)v).ToArray(), n);
        g.Initializers["b_s"] = Tensor.FromArray<float>(sw.Select(s => InputScale * s).ToArray(), n);
        g.Initializers["b_z"] = Tensor.FromArray<int>(new int[n], n);
        AddQdqChain(g, "Gemm", ["x_dq", "w_dq", "b_dq"], [NodeAttribute.Of("transB", 1L)], activation);
        return OnnxModel.Create(g, 17);
    }

    /// <summary>
    /// A quantized CNN's edges: x[1,C,H,W] → QDQ Conv 3x3 stride 2 → Relu → QDQ → GlobalAveragePool → Flatten → QDQ →
    /// Gemm → QDQ → Identity → y[1,classes], as our quantizer writes a classifier (the pool and Flatten run between a
    /// DequantizeLinear and a QuantizeLinear).
    /// </summary>
    public static OnnxModel ConvPoolHead(int channels, int size, int outChannels, int classes, int seed = 11)
    {
        var g = new Graph { Name = "qdq_conv_pool_head" };
        g.Inputs.Add(ValueInfo.Of("x", DataType.Float, 1, channels, size, size));
        g.Outputs.Add(ValueInfo.Of("y", DataType.Float, 1, classes));
        var (w, sw) = Weights(outChannels, channels * 9, seed);
        g.Initializers["w_q"] = Tensor.FromArray<sbyte>(w, outChannels, channels, 3, 3);
        AddActivationAndWeightParameters(g, sw);
        g.Initializers["b_q"] = Tensor.FromArray<int>(TestModels.Random(outChannels, seed + 7, 400).Select(v => (int)v).ToArray(), outChannels);
        g.Initializers["b_s"] = Tensor.FromArray<float>(sw.Select(s => InputScale * s).ToArray(), outChannels);
        g.Initializers["b_z"] = Tensor.FromArray<int>(new int[outChannels], outChannels);
        var (fw, fsw) = Weights(classes, outChannels, seed + 1);
        g.Initializers["fw_q"] = Tensor.FromArray<sbyte>(fw, classes, outChannels);
        g.Initializers["fw_s"] = Tensor.FromArray<float>(fsw, classes);
        g.Initializers["fw_z"] = Tensor.FromArray<sbyte>(new sbyte[classes], classes);
        g.Initializers["p_s"] = Tensor.Scalar(0.03f);
        g.Initializers["p_z"] = Tensor.Scalar((byte)0);
        g.Nodes.Add(new Node("QuantizeLinear", ["x", "x_s", "x_z"], ["x_q"], "x_quantize"));
        g.Nodes.Add(new Node("DequantizeLinear", ["x_q", "x_s", "x_z"], ["x_dq"], "x_dequantize"));
        g.Nodes.Add(new Node("DequantizeLinear", ["w_q", "w_s", "w_z"], ["w_dq"], "w_dequantize").With(NodeAttribute.Of("axis", 0L)));
        g.Nodes.Add(new Node("DequantizeLinear", ["b_q", "b_s", "b_z"], ["b_dq"], "b_dequantize").With(NodeAttribute.Of("axis", 0L)));
        g.Nodes.Add(new Node("Conv", ["x_dq", "w_dq", "b_dq"], ["acc"], "layer")
            .With(NodeAttribute.Of("strides", new long[] { 2, 2 })).With(NodeAttribute.Of("pads", new long[] { 1, 1, 1, 1 })));
        g.Nodes.Add(new Node("Relu", ["acc"], ["act"], "relu"));
        g.Nodes.Add(new Node("QuantizeLinear", ["act", "y_s", "y_z"], ["act_q"], "act_quantize"));
        g.Nodes.Add(new Node("DequantizeLinear", ["act_q", "y_s", "y_z"], ["act_dq"], "act_dequantize"));
        g.Nodes.Add(new Node("GlobalAveragePool", ["act_dq"], ["pooled"], "pool"));
        g.Nodes.Add(new Node("Flatten", ["pooled"], ["flat"], "flatten"));
        g.Nodes.Add(new Node("QuantizeLinear", ["flat", "p_s", "p_z"], ["flat_q"], "flat_quantize"));
        g.Nodes.Add(new Node("DequantizeLinear", ["flat_q", "p_s", "p_z"], ["flat_dq"], "flat_dequantize"));
        g.Nodes.Add(new Node("DequantizeLinear", ["fw_q", "fw_s", "fw_z"], ["fw_dq"], "fw_dequantize").With(NodeAttribute.Of("axis", 0L)));
        g.Nodes.Add(new Node("Gemm", ["flat_dq", "fw_dq"], ["logits"], "fc").With(NodeAttribute.Of("transB", 1L)));
        g.Nodes.Add(new Node("QuantizeLinear", ["logits", "y_s", "y_z"], ["logits_q"], "logits_quantize"));
        g.Nodes.Add(new Node("DequantizeLinear", ["logits_q", "y_s", "y_z"], ["logits_dq"], "logits_dequantize"));
        g.Nodes.Add(new Node("Identity", ["logits_dq"], ["y"], "output"));
        return OnnxModel.Create(g, 17);
    }

    /// <summary>Symmetric s8 weights per output channel (rows of <paramref name="perChannel"/> values) and their scales.</summary>
    private static (sbyte[] Weights, float[] Scales) Weights(int channels, int perChannel, int seed)
    {
        var real = TestModels.Random(channels * perChannel, seed, 0.5f);
        var q = new sbyte[real.Length];
        var scales = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            float max = 1e-6f;
            for (int i = 0; i < perChannel; i++) max = Math.Max(max, Math.Abs(real[c * perChannel + i]));
            scales[c] = max / 127f;
            for (int i = 0; i < perChannel; i++) q[c * perChannel + i] = (sbyte)Math.Clamp(MathF.Round(real[c * perChannel + i] / scales[c]), -127, 127);
        }
        return (q, scales);
    }

    private static void AddActivationAndWeightParameters(Graph g, float[] sw)
    {
        g.Initializers["x_s"] = Tensor.Scalar(InputScale);
        g.Initializers["x_z"] = Tensor.Scalar(InputZeroPoint);
        g.Initializers["y_s"] = Tensor.Scalar(OutputScale);
        g.Initializers["y_z"] = Tensor.Scalar(OutputZeroPoint);
        g.Initializers["w_s"] = Tensor.FromArray<float>(sw, sw.Length);
        g.Initializers["w_z"] = Tensor.FromArray<sbyte>(new sbyte[sw.Length], sw.Length);
    }

    private static void AddQdqChain(Graph g, string op, string[] opInputs, IEnumerable<NodeAttribute> attributes, string activation)
    {
        g.Nodes.Add(new Node("QuantizeLinear", ["x", "x_s", "x_z"], ["x_q"], "x_quantize"));
        g.Nodes.Add(new Node("DequantizeLinear", ["x_q", "x_s", "x_z"], ["x_dq"], "x_dequantize"));
        g.Nodes.Add(new Node("DequantizeLinear", ["w_q", "w_s", "w_z"], ["w_dq"], "w_dequantize").With(NodeAttribute.Of("axis", 0L)));
        g.Nodes.Add(new Node("DequantizeLinear", ["b_q", "b_s", "b_z"], ["b_dq"], "b_dequantize").With(NodeAttribute.Of("axis", 0L)));
        var node = new Node(op, opInputs, ["acc"], "layer");
        foreach (var a in attributes) node.Attributes.Add(a);
        g.Nodes.Add(node);
        string last = "acc";
        switch (activation)
        {
            case "Relu":
                g.Nodes.Add(new Node("Relu", ["acc"], ["act"], "relu"));
                last = "act";
                break;
            case "Clip":
                g.Initializers["clip_lo"] = Tensor.Scalar(0f);
                g.Initializers["clip_hi"] = Tensor.Scalar(6f);
                g.Nodes.Add(new Node("Clip", ["acc", "clip_lo", "clip_hi"], ["act"], "relu6"));
                last = "act";
                break;
        }
        g.Nodes.Add(new Node("QuantizeLinear", [last, "y_s", "y_z"], ["y_q"], "y_quantize"));
        g.Nodes.Add(new Node("DequantizeLinear", ["y_q", "y_s", "y_z"], ["y"], "y_dequantize"));
    }
}
