using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Bench.Models;

/// <summary>
/// The float models the models bench times, built in code with seeded random weights (He-uniform) and real
/// BatchNormalization statistics, the way a PyTorch export lays them out: Conv → BatchNormalization → Relu,
/// GlobalAveragePool → Flatten → Gemm. Input "x", output "y".
/// </summary>
public static class ModelZoo
{
    public sealed record Spec(string Name, string Description, int[] InputShape, Func<OnnxModel> Build);

    public static IReadOnlyList<Spec> All { get; } =
    [
        new("mlp", "MLP over 64 sensor features: 64-128-64-8, ReLU", [1, 64], Mlp),
        new("cnn1d", "1D-CNN over a 3-axis 128-sample window: 4 conv+BN+ReLU (16-32-64-64 ch), GAP, dense 6", [1, 3, 128], Cnn1D),
        new("mobilenet96", "MobileNet-v1 style, width 0.5, 13 depthwise-separable blocks, 96x96x3, 100 classes", [1, 3, 96, 96], () => MobileNet(96)),
        new("mobilenet224", "MobileNet-v1 style, width 0.5, 13 depthwise-separable blocks, 224x224x3, 100 classes", [1, 3, 224, 224], () => MobileNet(224)),
    ];

    private static OnnxModel Mlp()
    {
        var b = new Builder("mlp", [1, 64], seed: 1);
        string h = b.Dense("x", 64, 128, relu: true);
        h = b.Dense(h, 128, 64, relu: true);
        b.Output(b.Dense(h, 64, 8, relu: false), [1, 8]);
        return b.Model();
    }

    private static OnnxModel Cnn1D()
    {
        var b = new Builder("cnn1d", [1, 3, 128], seed: 2);
        string h = b.Conv("x", 3, 16, kernel: 5, stride: 1, group: 1, oneD: true);
        h = b.Conv(h, 16, 32, kernel: 5, stride: 2, group: 1, oneD: true);
        h = b.Conv(h, 32, 64, kernel: 3, stride: 2, group: 1, oneD: true);
        h = b.Conv(h, 64, 64, kernel: 3, stride: 2, group: 1, oneD: true);
        b.Output(b.Dense(b.Pool(h), 64, 6, relu: false), [1, 6]);
        return b.Model();
    }

    private static OnnxModel MobileNet(int size)
    {
        const double Width = 0.5;
        int C(int c) => (int)(c * Width);
        var b = new Builder($"mobilenet{size}", [1, 3, size, size], seed: 3);
        string h = b.Conv("x", 3, C(32), kernel: 3, stride: 2, group: 1);
        int channels = C(32);
        (int Out, int Stride)[] blocks =
        [
            (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
            (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1),
        ];
        foreach (var (outChannels, stride) in blocks)
        {
            h = b.Conv(h, channels, channels, kernel: 3, stride: stride, group: channels);
            h = b.Conv(h, channels, C(outChannels), kernel: 1, stride: 1, group: 1);
            channels = C(outChannels);
        }
        b.Output(b.Dense(b.Pool(h), channels, 100, relu: false), [1, 100]);
        return b.Model();
    }

    private sealed class Builder(string name, int[] input, int seed)
    {
        private readonly Graph _g = CreateGraph(name, input);
        private readonly Random _random = new(seed);
        private int _layer;

        private static Graph CreateGraph(string name, int[] input)
        {
            var g = new Graph { Name = name };
            g.Inputs.Add(ValueInfo.Of("x", DataType.Float, input));
            return g;
        }

        private float[] Uniform(int count, double limit, double center = 0)
        {
            var v = new float[count];
            for (int i = 0; i < count; i++) v[i] = (float)(center + (2 * _random.NextDouble() - 1) * limit);
            return v;
        }

        private string Initializer(string stem, float[] values, params int[] shape)
        {
            string n = $"{stem}{_layer}";
            _g.Initializers[n] = Tensor.FromArray<float>(values, shape);
            return n;
        }

        /// <summary>Conv (pad keeps the size at stride 1) → BatchNormalization → Relu.</summary>
        public string Conv(string x, int inChannels, int outChannels, int kernel, int stride, int group, bool oneD = false)
        {
            _layer++;
            int cg = inChannels / group, taps = oneD ? kernel : kernel * kernel;
            int[] wShape = oneD ? [outChannels, cg, kernel] : [outChannels, cg, kernel, kernel];
            string w = Initializer("conv_w", Uniform(outChannels * cg * taps, Math.Sqrt(6.0 / (cg * taps))), wShape);
            string bias = Initializer("conv_b", Uniform(outChannels, 0.05), outChannels);
            int pad = kernel / 2;
            var conv = new Node("Conv", [x, w, bias], [$"conv{_layer}"], $"conv{_layer}")
                .With(NodeAttribute.Of("group", (long)group))
                .With(NodeAttribute.Of("kernel_shape", oneD ? new long[] { kernel } : [kernel, kernel]))
                .With(NodeAttribute.Of("strides", oneD ? new long[] { stride } : [stride, stride]))
                .With(NodeAttribute.Of("pads", oneD ? new long[] { pad, pad } : [pad, pad, pad, pad]));
            _g.Nodes.Add(conv);
            string scale = Initializer("bn_scale", Uniform(outChannels, 0.2, 1.0), outChannels);
            string shift = Initializer("bn_bias", Uniform(outChannels, 0.1), outChannels);
            string mean = Initializer("bn_mean", Uniform(outChannels, 0.1), outChannels);
            string variance = Initializer("bn_var", Uniform(outChannels, 0.4, 1.0), outChannels);
            _g.Nodes.Add(new Node("BatchNormalization", [$"conv{_layer}", scale, shift, mean, variance], [$"bn{_layer}"], $"bn{_layer}"));
            _g.Nodes.Add(new Node("Relu", [$"bn{_layer}"], [$"relu{_layer}"], $"relu{_layer}"));
            return $"relu{_layer}";
        }

        /// <summary>Gemm (transB, PyTorch's Linear) [→ Relu].</summary>
        public string Dense(string x, int inputs, int outputs, bool relu)
        {
            _layer++;
            string w = Initializer("fc_w", Uniform(outputs * inputs, Math.Sqrt(6.0 / inputs)), outputs, inputs);
            string bias = Initializer("fc_b", Uniform(outputs, 0.05), outputs);
            _g.Nodes.Add(new Node("Gemm", [x, w, bias], [$"fc{_layer}"], $"fc{_layer}").With(NodeAttribute.Of("transB", 1L)));
            if (!relu) return $"fc{_layer}";
            _g.Nodes.Add(new Node("Relu", [$"fc{_layer}"], [$"fc_relu{_layer}"], $"fc_relu{_layer}"));
            return $"fc_relu{_layer}";
        }

        /// <summary>GlobalAveragePool → Flatten.</summary>
        public string Pool(string x)
        {
            _layer++;
            _g.Nodes.Add(new Node("GlobalAveragePool", [x], [$"gap{_layer}"], $"gap{_layer}"));
            _g.Nodes.Add(new Node("Flatten", [$"gap{_layer}"], [$"flat{_layer}"], $"flat{_layer}"));
            return $"flat{_layer}";
        }

        public void Output(string value, int[] shape)
        {
            _g.Nodes.Add(new Node("Identity", [value], ["y"], "output"));
            _g.Outputs.Add(ValueInfo.Of("y", DataType.Float, shape));
        }

        public OnnxModel Model() => OnnxModel.Create(_g, 17);
    }
}
