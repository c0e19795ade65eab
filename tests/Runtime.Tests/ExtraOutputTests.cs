using EdgeAgent.Checks.Runtime;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using Xunit;

namespace EdgeAgent.Runtime.Tests;

/// <summary>SessionOptions.ExtraOutputs exposes intermediate values (the daemon's backbone embedding).</summary>
public class ExtraOutputTests
{
    [Fact]
    public void ExtraOutputHoldsTheIntermediateValueAfterTheGraphOutputs()
    {
        var x = Tensor.FromArray<float>(TestModels.Random(12, 7), 1, 12);
        var session = InferenceSession.FromModel(TestModels.Mlp(), new SessionOptions { ExtraOutputs = ["hr"] });
        var outputs = session.Run([x]);
        Assert.Equal(2, outputs.Count);
        Assert.Equal(["probabilities", "hr"], session.Outputs.Select(o => o.Name));

        // The same value computed by hand: relu(x · w1ᵀ + b1).
        var model = TestModels.Mlp();
        var w1 = model.Graph.Initializers["w1"].Span<float>();
        var b1 = model.Graph.Initializers["b1"].Span<float>();
        var input = x.Span<float>();
        var hidden = outputs[1].Span<float>();
        Assert.Equal(16, hidden.Length);
        for (int j = 0; j < 16; j++)
        {
            float sum = b1[j];
            for (int i = 0; i < 12; i++) sum += input[i] * w1[j * 12 + i];
            Assert.Equal(Math.Max(sum, 0f), hidden[j], 4);
        }

        // The graph's own output is unchanged by the extra one.
        var plain = InferenceSession.FromModel(TestModels.Mlp()).Run([x])[0].ToArray<float>();
        Assert.Equal(plain, outputs[0].ToArray<float>());
    }

    [Fact]
    public void ExtraOutputStaysLiveInTheArenaAndRunsAllocateNothing()
    {
        var session = InferenceSession.FromBytes(OnnxWriter.ToBytes(TestModels.Mlp()), new SessionOptions { ExtraOutputs = ["h"] });
        var x = Tensor.FromArray<float>(TestModels.Random(12, 7), 1, 12);
        Tensor[] feed = [x];
        var first = session.Run(feed)[1].ToArray<float>();
        session.Run(feed);
        long before = GC.GetAllocatedBytesForCurrentThread();
        IReadOnlyList<Tensor> outputs = [];
        for (int i = 0; i < 20; i++) outputs = session.Run(feed);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(first, outputs[1].ToArray<float>());
    }

    [Fact]
    public void UnknownExtraOutputIsRefusedByName()
    {
        var e = Assert.Throws<ModelLoadException>(() => InferenceSession.FromModel(TestModels.Mlp(), new SessionOptions { ExtraOutputs = ["nope"] }));
        Assert.Contains("'nope'", e.Message);
        var again = Assert.Throws<ModelLoadException>(() => InferenceSession.FromModel(TestModels.Mlp(), new SessionOptions { ExtraOutputs = ["probabilities"] }));
        Assert.Contains("already an output", again.Message);
    }
}
