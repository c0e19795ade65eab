using EdgeAgent.Checks.Runtime;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using Xunit;

namespace EdgeAgent.Runtime.Tests;

/// <summary>After the first Run, Run allocates nothing on the managed heap (the arena is reused).</summary>
public class AllocationTests
{
    private static long AllocatedByRuns(InferenceSession session, Tensor[] inputs, int runs)
    {
        session.Run(inputs); // plans (if needed) and warms up
        session.Run(inputs);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < runs; i++) session.Run(inputs);
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void MlpRunAllocatesNothing()
    {
        var session = InferenceSession.FromBytes(OnnxWriter.ToBytes(TestModels.Mlp()));
        var x = Tensor.FromArray<float>(TestModels.Random(12, 7), 1, 12);
        Assert.Equal(0, AllocatedByRuns(session, [x], 50));
    }

    [Fact]
    public void CnnRunAllocatesNothing()
    {
        var session = InferenceSession.FromModel(TestModels.SmallCnn());
        var x = Tensor.FromArray<float>(TestModels.Random(1 * 3 * 16 * 16, 9), 1, 3, 16, 16);
        Assert.Equal(0, AllocatedByRuns(session, [x], 20));
        Assert.NotNull(session.Plan);
        Assert.True(session.Plan!.ArenaBytes > 0);
    }

    [Theory]
    [InlineData("node/test_qlinearconv")]
    [InlineData("node/test_qlinearmatmul_2D")]
    [InlineData("node/test_convinteger_with_padding")]
    [InlineData("node/test_maxpool_2d_pads")]
    [InlineData("pytorch-converted/test_Conv2d_groups")]
    public void ConformanceModelRunAllocatesNothing(string test)
    {
        string dir = Path.Combine("/usr/share/libonnx-testdata/data", test);
        var session = InferenceSession.Load(Path.Combine(dir, "model.onnx"));
        var inputs = new Tensor[session.Inputs.Count];
        for (int k = 0; k < inputs.Length; k++)
            inputs[k] = OnnxReader.ReadTensorFile(Path.Combine(dir, "test_data_set_0", $"input_{k}.pb"));
        Assert.Equal(0, AllocatedByRuns(session, inputs, 10));
    }
}
