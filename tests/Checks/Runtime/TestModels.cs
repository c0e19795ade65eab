using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Checks.Runtime;

/// <summary>Small models built in code for the runtime checks (deterministic pseudo-random weights).</summary>
public static class TestModels
{
    public static float[] Random(int count, int seed, float scale = 1f)
    {
        var values = new float[count];
        uint state = (uint)seed * 2654435761u + 1;
        for (int i = 0; i < count; i++)
        {
            state ^= state << 13; state ^= state >> 17; state ^= state << 5;
            values[i] = ((state & 0xFFFFFF) / (float)0x1000000 * 2 - 1) * scale;
        }
        return values;
    }

    /// <summary>x[1,in] → Gemm(transB) → Relu → Gemm → Softmax: an MLP over sensor features.</summary>
    public static OnnxModel Mlp(int inputs = 12, int hidden = 16, int classes = 4)
    {
        var g = new Graph { Name = "mlp" };
        g.Inputs.Add(ValueInfo.Of("x", DataType.Float, 1, inputs));
        g.Outputs.Add(ValueInfo.Of("probabilities", DataType.Float, 1, classes));
        g.Initializers["w1"] = Tensor.FromArray<float>(Random(hidden * inputs, 1, 0.5f), hidden, inputs);
        g.Initializers["b1"] = Tensor.FromArray<float>(Random(hidden, 2, 0.1f), hidden);
        g.Initializers["w2"] = Tensor.FromArray<float>(Random(hidden * classes, 3, 0.5f), hidden, classes);
        g.Initializers["b2"] = Tensor.FromArray<float>(Random(classes, 4, 0.1f), classes);
        g.Nodes.Add(new Node("Gemm", ["x", "w1", "b1"], ["h"], "fc1").With(NodeAttribute.Of("transB", 1L)));
        g.Nodes.Add(new Node("Relu", ["h"], ["hr"], "relu1"));
        g.Nodes.Add(new Node("Gemm", ["hr", "w2", "b2"], ["logits"], "fc2"));
        g.Nodes.Add(new Node("Softmax", ["logits"], ["probabilities"], "softmax").With(NodeAttribute.Of("axis", 1L)));
        return OnnxModel.Create(g, 17);
    }

    /// <summary>
    /// x[1,3,16,16] → Conv 3x3 (8) → BatchNormalization → Relu → MaxPool 2x2 → depthwise Conv 3x3 →
    /// GlobalAveragePool → Flatten → Gemm (4): a small MobileNet-like image model.
    /// </summary>
    public static OnnxModel SmallCnn()
    {
        var g = new Graph { Name = "small_cnn" };
        g.Inputs.Add(ValueInfo.Of("image", DataType.Float, 1, 3, 16, 16));
        g.Outputs.Add(ValueInfo.Of("logits", DataType.Float, 1, 4));
        g.Initializers["w1"] = Tensor.FromArray<float>(Random(8 * 3 * 9, 21, 0.4f), 8, 3, 3, 3);
        g.Initializers["b1"] = Tensor.FromArray<float>(Random(8, 22, 0.1f), 8);
        g.Initializers["gamma"] = Tensor.FromArray<float>(Random(8, 23, 0.2f).Select(v => v + 1).ToArray(), 8);
        g.Initializers["beta"] = Tensor.FromArray<float>(Random(8, 24, 0.1f), 8);
        g.Initializers["mean"] = Tensor.FromArray<float>(Random(8, 25, 0.1f), 8);
        g.Initializers["var"] = Tensor.FromArray<float>(Random(8, 26, 0.2f).Select(v => v + 1).ToArray(), 8);
        g.Initializers["dw"] = Tensor.FromArray<float>(Random(8 * 9, 27, 0.4f), 8, 1, 3, 3);
        g.Initializers["fc"] = Tensor.FromArray<float>(Random(8 * 4, 28, 0.4f), 8, 4);
        g.Nodes.Add(new Node("Conv", ["image", "w1", "b1"], ["c1"], "conv1").With(NodeAttribute.Of("pads", new long[] { 1, 1, 1, 1 })));
        g.Nodes.Add(new Node("BatchNormalization", ["c1", "gamma", "beta", "mean", "var"], ["bn1"], "bn1"));
        g.Nodes.Add(new Node("Relu", ["bn1"], ["r1"], "relu1"));
        g.Nodes.Add(new Node("MaxPool", ["r1"], ["p1"], "pool1").With(NodeAttribute.Of("kernel_shape", new long[] { 2, 2 })).With(NodeAttribute.Of("strides", new long[] { 2, 2 })));
        g.Nodes.Add(new Node("Conv", ["p1", "dw"], ["c2"], "dwconv").With(NodeAttribute.Of("group", 8L)).With(NodeAttribute.Of("pads", new long[] { 1, 1, 1, 1 })));
        g.Nodes.Add(new Node("GlobalAveragePool", ["c2"], ["gap"], "gap"));
        g.Nodes.Add(new Node("Flatten", ["gap"], ["flat"], "flatten"));
        g.Nodes.Add(new Node("MatMul", ["flat", "fc"], ["logits"], "fc"));
        return OnnxModel.Create(g, 17);
    }

    /// <summary>The MLP computed directly, as the reference the session must match.</summary>
    public static float[] MlpReference(OnnxModel model, float[] x)
    {
        var g = model.Graph;
        var w1 = g.Initializers["w1"]; var b1 = g.Initializers["b1"].ToArray<float>();
        var w2 = g.Initializers["w2"]; var b2 = g.Initializers["b2"].ToArray<float>();
        int hidden = w1.Shape[0], inputs = w1.Shape[1], classes = w2.Shape[1];
        var h = new float[hidden];
        var w1v = w1.ToArray<float>(); var w2v = w2.ToArray<float>();
        for (int j = 0; j < hidden; j++)
        {
            double s = b1[j];
            for (int i = 0; i < inputs; i++) s += x[i] * w1v[j * inputs + i];
            h[j] = (float)Math.Max(0, s);
        }
        var logits = new double[classes];
        for (int c = 0; c < classes; c++)
        {
            double s = b2[c];
            for (int j = 0; j < hidden; j++) s += h[j] * w2v[j * classes + c];
            logits[c] = s;
        }
        double max = logits.Max(), sum = logits.Sum(l => Math.Exp(l - max));
        return logits.Select(l => (float)(Math.Exp(l - max) / sum)).ToArray();
    }
}
