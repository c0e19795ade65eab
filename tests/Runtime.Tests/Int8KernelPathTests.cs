using EdgeAgent.Checks.Runtime;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using Xunit;

namespace EdgeAgent.Runtime.Tests;

/// <summary>
/// Quantized nodes run on the int8 kernels: QLinear/Integer ops directly, QDQ patterns after fusion; the
/// fused result matches the unfused QDQ graph to one output quantum, and the thread count never changes a bit.
/// </summary>
public class Int8KernelPathTests
{
    private static float[] Run(OnnxModel model, float[] x, int threads = 1, bool optimize = true) =>
        KernelPathRuns.Run(model, x, threads, optimize);

    private static float[] Input(OnnxModel model, int seed) => KernelPathRuns.Input(model, seed, 2.4f);

    private static void AssertWithinOneQuantum(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        int off = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            float d = Math.Abs(expected[i] - actual[i]);
            Assert.True(d <= QdqTestModels.OutputScale * 1.01f, $"[{i}] fused {actual[i]}, unfused {expected[i]}");
            if (d > 0) off++;
        }
        // Rounding differs only where the float and integer sums straddle a rounding boundary.
        Assert.True(off <= expected.Length / 20 + 1, $"{off} of {expected.Length} outputs differ by a quantum");
    }

    public static TheoryData<int, int, int, int, int, int, int, int, string, string> ConvCases => new()
    {
        // channels, height, width, outChannels, kernel, stride, pad, group, activation, expected path prefix
        { 8, 12, 12, 16, 3, 1, 1, 1, "Relu", "qconv." },
        { 16, 10, 10, 24, 1, 1, 0, 1, "Clip", "qconv." },
        { 16, 13, 13, 16, 3, 2, 1, 16, "Relu", "dwconv-int8." },
        { 12, 9, 9, 12, 5, 1, 2, 12, "None", "dwconv-int8." },
        { 8, 11, 11, 8, 3, 1, 1, 2, "Relu", "qconv." },
        { 3, 0, 128, 16, 5, 2, 2, 1, "Relu", DirectOnX64 },
        { 3, 17, 17, 16, 3, 2, 1, 1, "Relu", DirectOnX64 },
        { 1, 12, 12, 8, 3, 2, 0, 1, "None", DirectOnX64 },
    };

    // Few input channels run the direct kernel where it has a vector path (x64, ARM NEON and dot product); im2col + QGEMM on scalar.
    private static string DirectOnX64 => EdgeAgent.Kernels.QConvDirect.IsVectorized(EdgeAgent.Kernels.KernelTable.Current) ? "qconv-direct." : "qconv.";

    [Fact]
    public void QuantizedClassifierStaysInt8FromInputQuantizeToOutputDequantize()
    {
        OnnxModel Build() => QdqTestModels.ConvPoolHead(channels: 3, size: 15, outChannels: 16, classes: 10);
        var x = Input(Build(), 21);
        using var session = InferenceSession.FromModel(Build());
        var report = session.Report;
        // One quantize (writing NHWC for the convolution), one dequantize, the pool on int8, Flatten and Identity free.
        Assert.Equal(["QuantizeLinear"], report.Where(r => r.KernelPath.StartsWith("quantize", StringComparison.Ordinal)).Select(r => r.OpType));
        Assert.EndsWith("-nhwc", Assert.Single(report, r => r.OpType == "QuantizeLinear").KernelPath);
        Assert.Single(report, r => r.OpType == "DequantizeLinear");
        Assert.StartsWith("global-avgpool-int8.", Assert.Single(report, r => r.Node == "pool").KernelPath);
        Assert.Equal("alias", Assert.Single(report, r => r.Node == "flatten").KernelPath);
        Assert.Equal("alias", Assert.Single(report, r => r.Node == "output").KernelPath);
        Assert.DoesNotContain(report, r => r.KernelPath is "reference" or "copy");
        var unfused = Run(Build(), x, optimize: false);
        var fused = Run(Build(), x);
        Assert.Equal(unfused.Length, fused.Length);
        // The pooled value may round the other way once; through the Gemm that moves a logit by at most two quanta.
        for (int i = 0; i < fused.Length; i++)
            Assert.True(Math.Abs(unfused[i] - fused[i]) <= 2.02f * QdqTestModels.OutputScale, $"[{i}] fused {fused[i]}, unfused {unfused[i]}");
        Assert.True(unfused.Zip(fused).Count(p => p.First != p.Second) <= 2, "at most a couple of logits differ");
    }

    [Fact]
    public void InputsAreReadInPlaceAndEveryRunSeesItsOwnInput()
    {
        OnnxModel Build() => QdqTestModels.ConvPoolHead(channels: 3, size: 15, outChannels: 16, classes: 10);
        var a = Input(Build(), 1);
        var b = Input(Build(), 2);
        using var session = InferenceSession.FromModel(Build());
        var shape = session.Inputs[0].ConcreteShape()!;
        var ta = Tensor.FromArray<float>(a, shape);
        var tb = Tensor.FromArray<float>(b, shape);
        var first = session.Run([ta])[0].ToArray<float>();
        var second = session.Run([tb])[0].ToArray<float>();
        var again = session.Run([ta])[0].ToArray<float>();
        Assert.Equal(first, again);
        Assert.NotEqual(first, second);
        Assert.Equal(Run(Build(), b), second);
        Assert.Equal(a, ta.ToArray<float>()); // the caller's tensor is read, never written
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void QdqConvFusesOntoInt8KernelAndMatchesTheQdqGraph(int channels, int height, int width, int outChannels, int kernel,
        int stride, int pad, int group, string activation, string path)
    {
        OnnxModel Build() => QdqTestModels.Conv(channels, height, width, outChannels, kernel, stride, pad, group, activation);
        var x = Input(Build(), 5);
        var model = Build();
        using var session = InferenceSession.FromModel(model);
        var report = Assert.Single(session.Report, r => r.Node == "layer");
        Assert.StartsWith(path, report.KernelPath);
        Assert.Equal("QLinearConv", report.OpType);
        AssertWithinOneQuantum(Run(Build(), x, optimize: false), Run(Build(), x));
    }

    [Theory]
    [InlineData(1, 40, 24, "Relu")]
    [InlineData(7, 33, 50, "Clip")]
    [InlineData(3, 16, 5, "None")]
    public void QdqGemmFusesOntoQGemmAndMatchesTheQdqGraph(int rows, int k, int n, string activation)
    {
        var x = Input(QdqTestModels.Gemm(rows, k, n, activation), 8);
        var model = QdqTestModels.Gemm(rows, k, n, activation);
        using var session = InferenceSession.FromModel(model);
        var report = Assert.Single(session.Report, r => r.Node == "layer");
        Assert.StartsWith("qgemm.", report.KernelPath);
        Assert.Equal("QLinearMatMul", report.OpType);
        AssertWithinOneQuantum(Run(QdqTestModels.Gemm(rows, k, n, activation), x, optimize: false), Run(QdqTestModels.Gemm(rows, k, n, activation), x));
    }

    [Fact]
    public void ActivationClampIsFused()
    {
        // With ReLU fused every output is at least the zero point (real 0); without an activation some are below.
        var x = Input(QdqTestModels.Gemm(4, 32, 32, "Relu"), 9);
        Assert.All(Run(QdqTestModels.Gemm(4, 32, 32, "Relu"), x), v => Assert.True(v >= 0));
        Assert.Contains(Run(QdqTestModels.Gemm(4, 32, 32, "None"), x), v => v < 0);
        Assert.All(Run(QdqTestModels.Gemm(4, 32, 32, "Clip"), x), v => Assert.InRange(v, 0f, 6f + QdqTestModels.OutputScale));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(16)]
    public void ThreadCountDoesNotChangeABit(int group)
    {
        OnnxModel Build() => QdqTestModels.Conv(16, 28, 28, group == 16 ? 16 : 32, 3, 1, 1, group, "Relu", seed: 11);
        var x = Input(Build(), 12);
        var one = Run(Build(), x, threads: 1);
        Assert.Equal(one, Run(Build(), x, threads: 2));
        Assert.Equal(one, Run(Build(), x, threads: 3));
        var g1 = Run(QdqTestModels.Gemm(64, 96, 80, seed: 13), Input(QdqTestModels.Gemm(64, 96, 80), 14), threads: 1);
        Assert.Equal(g1, Run(QdqTestModels.Gemm(64, 96, 80, seed: 13), Input(QdqTestModels.Gemm(64, 96, 80), 14), threads: 3));
    }

    [Theory]
    [InlineData("node/test_qlinearmatmul_2D", "qgemm.")]
    [InlineData("node/test_matmulinteger", "qgemm.")]
    [InlineData("node/test_qlinearconv", "qconv.")]
    [InlineData("node/test_convinteger_with_padding", "qconv.")]
    public void OnnxQuantizedOperatorsRunOnTheKernels(string test, string path)
    {
        // ONNX's node tests feed weights and scales as inputs; a deployed model holds them as initializers,
        // which is what lets the kernels pack the weights at load. Every input but the first becomes one.
        string dir = Path.Combine("/usr/share/libonnx-testdata/data", test);
        var model = OnnxReader.Load(Path.Combine(dir, "model.onnx"));
        var graphInputs = model.Graph.Inputs.ToList();
        for (int k = 1; k < graphInputs.Count; k++)
            model.Graph.Initializers[graphInputs[k].Name] = OnnxReader.ReadTensorFile(Path.Combine(dir, "test_data_set_0", $"input_{k}.pb"));
        using var session = InferenceSession.FromModel(model);
        Assert.Single(session.Inputs);
        var output = session.Run([OnnxReader.ReadTensorFile(Path.Combine(dir, "test_data_set_0", "input_0.pb"))])[0];
        Assert.StartsWith(path, Assert.Single(session.Report).KernelPath);
        var expected = OnnxReader.ReadTensorFile(Path.Combine(dir, "test_data_set_0", "output_0.pb"));
        Assert.Null(ConformanceRunner.Compare(expected, output, quantized: true));
    }
}
