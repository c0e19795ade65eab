using EdgeAgent.Checks.Runtime;
using EdgeAgent.Runtime.Ir;
using Xunit;

namespace EdgeAgent.Runtime.Tests;

/// <summary>
/// Float Conv, Gemm and MatMul with constant weights run on the SGEMM / float depthwise kernels; a following
/// BatchNormalization folds into the weights and an activation into the kernel. Fused graphs match the unfused
/// ones and a plain double-precision convolution; the thread count never changes a bit.
/// </summary>
public class FloatKernelPathTests
{
    private static float[] Run(OnnxModel model, float[] x, int threads = 1, bool optimize = true) =>
        KernelPathRuns.Run(model, x, threads, optimize);

    private static float[] Input(OnnxModel model, int seed) => KernelPathRuns.Input(model, seed, 2f);

    private static void AssertClose(float[] expected, float[] actual, float tolerance = 1e-4f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])), $"[{i}] {actual[i]} vs {expected[i]}");
    }

    /// <summary>x → Conv [→ BatchNormalization] [→ activation] → y, with weights, bias and BN statistics as initializers.</summary>
    internal static OnnxModel Conv(int channels, int height, int width, int outChannels, int kernel, int stride, int pad, int group,
        bool batchNorm, string activation, int dilation = 1, int seed = 1)
    {
        bool twoD = height > 0;
        int cg = channels / group, taps = twoD ? kernel * kernel : kernel;
        int span = dilation * (kernel - 1) + 1;
        int oh = twoD ? (height + 2 * pad - span) / stride + 1 : 1, ow = (width + 2 * pad - span) / stride + 1;
        int[] xShape = twoD ? [1, channels, height, width] : [1, channels, width];
        int[] yShape = twoD ? [1, outChannels, oh, ow] : [1, outChannels, ow];
        int[] wShape = twoD ? [outChannels, cg, kernel, kernel] : [outChannels, cg, kernel];
        var g = new Graph { Name = "float_conv" };
        g.Inputs.Add(ValueInfo.Of("x", DataType.Float, xShape));
        g.Outputs.Add(ValueInfo.Of("y", DataType.Float, yShape));
        g.Initializers["w"] = Tensor.FromArray<float>(TestModels.Random(outChannels * cg * taps, seed, 0.4f), wShape);
        g.Initializers["b"] = Tensor.FromArray<float>(TestModels.Random(outChannels, seed + 1, 0.3f), outChannels);
        var conv = new Node("Conv", ["x", "w", "b"], ["conv"], "layer")
            .With(NodeAttribute.Of("group", (long)group))
            .With(NodeAttribute.Of("strides", twoD ? new long[] { stride, stride } : [stride]))
            .With(NodeAttribute.Of("dilations", twoD ? new long[] { dilation, dilation } : [dilation]))
            .With(NodeAttribute.Of("pads", twoD ? new long[] { pad, pad, pad, pad } : [pad, pad]));
        g.Nodes.Add(conv);
        AddTail(g, "conv", outChannels, batchNorm, activation, seed);
        return OnnxModel.Create(g, 17);
    }

    /// <summary>x[rows,K] → Gemm(transB) or MatMul [→ BatchNormalization] [→ activation] → y.</summary>
    internal static OnnxModel Dense(string op, int rows, int k, int n, bool batchNorm, string activation, int seed = 3)
    {
        var g = new Graph { Name = "float_dense" };
        g.Inputs.Add(ValueInfo.Of("x", DataType.Float, rows, k));
        g.Outputs.Add(ValueInfo.Of("y", DataType.Float, rows, n));
        if (op == "Gemm")
        {
            g.Initializers["w"] = Tensor.FromArray<float>(TestModels.Random(n * k, seed, 0.3f), n, k);
            g.Initializers["b"] = Tensor.FromArray<float>(TestModels.Random(n, seed + 1, 0.3f), n);
            g.Nodes.Add(new Node("Gemm", ["x", "w", "b"], ["dense"], "layer").With(NodeAttribute.Of("transB", 1L)).With(NodeAttribute.Of("alpha", 0.75f)));
        }
        else
        {
            g.Initializers["w"] = Tensor.FromArray<float>(TestModels.Random(k * n, seed, 0.3f), k, n);
            g.Nodes.Add(new Node("MatMul", ["x", "w"], ["dense"], "layer"));
        }
        AddTail(g, "dense", n, batchNorm, activation, seed);
        return OnnxModel.Create(g, 17);
    }

    private static void AddTail(Graph g, string value, int channels, bool batchNorm, string activation, int seed)
    {
        if (batchNorm)
        {
            g.Initializers["bn_scale"] = Tensor.FromArray<float>(TestModels.Random(channels, seed + 2, 1f).Select(v => 1 + 0.5f * v).ToArray(), channels);
            g.Initializers["bn_bias"] = Tensor.FromArray<float>(TestModels.Random(channels, seed + 3, 0.5f), channels);
            g.Initializers["bn_mean"] = Tensor.FromArray<float>(TestModels.Random(channels, seed + 4, 0.5f), channels);
            g.Initializers["bn_var"] = Tensor.FromArray<float>(TestModels.Random(channels, seed + 5, 0.5f).Select(v => 0.6f + Math.Abs(v)).ToArray(), channels);
            g.Nodes.Add(new Node("BatchNormalization", [value, "bn_scale", "bn_bias", "bn_mean", "bn_var"], ["bn"], "bn")
                .With(NodeAttribute.Of("epsilon", 1e-3f)));
            value = "bn";
        }
        string output = "y";
        switch (activation)
        {
            case "None":
                g.Nodes.Add(new Node("Identity", [value], [output], "out"));
                return;
            case "Clip":
                g.Initializers["lo"] = Tensor.Scalar(-0.5f);
                g.Initializers["hi"] = Tensor.Scalar(1.5f);
                g.Nodes.Add(new Node("Clip", [value, "lo", "hi"], [output], "act"));
                return;
            case "LeakyRelu":
                g.Nodes.Add(new Node("LeakyRelu", [value], [output], "act").With(NodeAttribute.Of("alpha", 0.2f)));
                return;
            default:
                g.Nodes.Add(new Node(activation, [value], [output], "act"));
                return;
        }
    }

    public static TheoryData<int, int, int, int, int, int, int, int, string> ConvCases => new()
    {
        // channels, height, width, outChannels, kernel, stride, pad, group, expected path prefix
        { 3, 17, 19, 16, 3, 2, 1, 1, "im2col-sgemm." },
        { 24, 9, 11, 40, 1, 1, 0, 1, "sgemm." },
        { 32, 14, 14, 32, 3, 1, 1, 32, "dwconv." },
        { 20, 13, 13, 20, 3, 2, 1, 20, "dwconv." },
        { 8, 10, 10, 12, 3, 1, 1, 2, "im2col-sgemm." },
        { 16, 8, 8, 24, 1, 2, 0, 1, "im2col-sgemm." },
        { 3, 0, 128, 16, 5, 2, 2, 1, "im2col-sgemm." },
    };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void ConvRunsOnFloatKernelsAndMatchesAPlainConvolution(int channels, int height, int width, int outChannels, int kernel,
        int stride, int pad, int group, string path)
    {
        var model = Conv(channels, height, width, outChannels, kernel, stride, pad, group, batchNorm: false, "None");
        var x = Input(model, 5);
        var expected = PlainConv(model, x, channels, height, width, outChannels, kernel, stride, pad, group);
        using var session = InferenceSession.FromModel(model);
        Assert.StartsWith(path, Assert.Single(session.Report, r => r.Node == "layer").KernelPath);
        var shape = session.Inputs[0].ConcreteShape()!;
        AssertClose(expected, session.Run([Tensor.FromArray<float>(x, shape)])[0].ToArray<float>());
    }

    [Theory]
    [InlineData("Relu", "+relu")]
    [InlineData("Clip", "+clip")]
    [InlineData("LeakyRelu", "+leakyrelu")]
    [InlineData("HardSwish", "+hardswish")]
    [InlineData("Sigmoid", "+sigmoid")]
    [InlineData("None", "")]
    public void BatchNormAndActivationFoldIntoConvAndMatchTheUnfusedGraph(string activation, string suffix)
    {
        foreach (var (group, outChannels, kernel) in new[] { (1, 24, 3), (16, 16, 3), (1, 20, 1) })
        {
            OnnxModel Build() => Conv(16, 12, 12, outChannels, kernel, 1, kernel / 2, group, batchNorm: true, activation);
            var x = Input(Build(), 7);
            using var session = InferenceSession.FromModel(Build());
            // Conv, BatchNormalization and the activation are one node (an Identity stays after "None").
            var layer = Assert.Single(session.Report, r => r.Node == "layer");
            Assert.EndsWith(suffix, layer.KernelPath);
            Assert.DoesNotContain(session.Report, r => r.OpType is "BatchNormalization" || r.Node == "act");
            AssertClose(Run(Build(), x, optimize: false), Run(Build(), x));
        }
    }

    [Theory]
    [InlineData("Gemm", 1, 40, 24, "Relu")]
    [InlineData("Gemm", 7, 33, 50, "Clip")]
    [InlineData("MatMul", 3, 16, 70, "HardSwish")]
    [InlineData("MatMul", 40, 64, 48, "Sigmoid")]
    [InlineData("Gemm", 2, 18, 9, "LeakyRelu")]
    public void DenseLayersFuseAndMatchTheUnfusedGraph(string op, int rows, int k, int n, string activation)
    {
        // BatchNormalization folds into Gemm; after a MatMul its channel axis depends on A's rank, so it stays.
        foreach (bool batchNorm in op == "Gemm" ? new[] { false, true } : [false])
        {
            OnnxModel Build() => Dense(op, rows, k, n, batchNorm, activation);
            var x = Input(Build(), 8);
            using var session = InferenceSession.FromModel(Build());
            var layer = Assert.Single(session.Report);
            Assert.StartsWith("sgemm.", layer.KernelPath);
            Assert.EndsWith("+" + activation.ToLowerInvariant(), layer.KernelPath);
            AssertClose(Run(Build(), x, optimize: false), Run(Build(), x));
        }
    }

    [Fact]
    public void FusedReluAndClipBoundTheOutput()
    {
        var x = Input(Conv(8, 10, 10, 16, 3, 1, 1, 1, true, "Relu"), 9);
        Assert.All(Run(Conv(8, 10, 10, 16, 3, 1, 1, 1, true, "Relu"), x), v => Assert.True(v >= 0));
        Assert.Contains(Run(Conv(8, 10, 10, 16, 3, 1, 1, 1, true, "None"), x), v => v < -0.5f);
        Assert.All(Run(Conv(8, 10, 10, 16, 3, 1, 1, 1, true, "Clip"), x), v => Assert.InRange(v, -0.5f, 1.5f));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(32)]
    public void ThreadCountDoesNotChangeABit(int group)
    {
        OnnxModel Build() => Conv(32, 28, 28, 32, 3, 1, 1, group, batchNorm: true, "HardSwish", seed: 11);
        var x = Input(Build(), 12);
        var one = Run(Build(), x, threads: 1);
        Assert.Equal(one, Run(Build(), x, threads: 2));
        Assert.Equal(one, Run(Build(), x, threads: 3));
        foreach (int rows in new[] { 1, 64 })
        {
            OnnxModel Dense() => FloatKernelPathTests.Dense("Gemm", rows, 96, 80, true, "Relu", seed: 13);
            var d = Input(Dense(), 14);
            var d1 = Run(Dense(), d, threads: 1);
            Assert.Equal(d1, Run(Dense(), d, threads: 2));
            Assert.Equal(d1, Run(Dense(), d, threads: 3));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ChainedConvolutionsHandOverNhwcAndStillMatchPlainConvolutions(int threads)
    {
        // conv a (3x3, 8→16) → Relu → conv b (1x1, 16→12): a writes NHWC straight into the value b reads.
        var first = Conv(8, 10, 10, 16, 3, 1, 1, 1, batchNorm: false, "Relu", seed: 21);
        var second = Conv(16, 10, 10, 12, 1, 1, 0, 1, batchNorm: false, "None", seed: 22);
        var g = first.Graph;
        g.Outputs.Clear();
        g.Outputs.Add(ValueInfo.Of("z", DataType.Float, 1, 12, 10, 10));
        g.Initializers["w2"] = second.Graph.Initializers["w"];
        g.Initializers["b2"] = second.Graph.Initializers["b"];
        g.Nodes.Add(new Node("Conv", ["y", "w2", "b2"], ["z"], "second").With(NodeAttribute.Of("pads", new long[] { 0, 0, 0, 0 })));
        var x = Input(first, 23);
        var hidden = PlainConv(first, x, 8, 10, 10, 16, 3, 1, 1, 1).Select(v => Math.Max(v, 0f)).ToArray();
        var expected = PlainConv(second, hidden, 16, 10, 10, 12, 1, 1, 0, 1);
        AssertClose(expected, Run(first, x, threads));
    }

    /// <summary>A direct NCHW convolution in double precision, from the model's own initializers.</summary>
    private static float[] PlainConv(OnnxModel model, float[] x, int channels, int height, int width, int outChannels, int kernel,
        int stride, int pad, int group)
    {
        bool twoD = height > 0;
        int h = twoD ? height : 1, kh = twoD ? kernel : 1, padH = twoD ? pad : 0, strideH = twoD ? stride : 1;
        int oh = (h + 2 * padH - kh) / strideH + 1, ow = (width + 2 * pad - kernel) / stride + 1;
        var w = model.Graph.Initializers["w"].ToArray<float>();
        var b = model.Graph.Initializers["b"].ToArray<float>();
        int cg = channels / group, mg = outChannels / group;
        var y = new float[outChannels * oh * ow];
        for (int m = 0; m < outChannels; m++)
        {
            int g = m / mg;
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    double sum = b[m];
                    for (int ci = 0; ci < cg; ci++)
                        for (int ky = 0; ky < kh; ky++)
                            for (int kx = 0; kx < kernel; kx++)
                            {
                                int iy = oy * strideH - padH + ky, ix = ox * stride - pad + kx;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= width) continue;
                                sum += (double)w[((m * cg + ci) * kh + ky) * kernel + kx] * x[((g * cg + ci) * h + iy) * width + ix];
                            }
                    y[(m * oh + oy) * ow + ox] = (float)sum;
                }
        }
        return y;
    }
}
