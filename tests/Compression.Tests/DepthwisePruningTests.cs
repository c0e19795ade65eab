using EdgeAgent.Compression.Evaluation;
using EdgeAgent.Compression.Pruning;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using EdgeAgent.Runtime.Training;
using Xunit;

namespace EdgeAgent.Compression.Tests;

/// <summary>Structured pruning through a MobileNet block: the pointwise layer's channels are the next depthwise layer's.</summary>
public sealed class DepthwisePruningTests
{
    // stem 3×3 conv (8 ch) → BN → ReLU → depthwise 3×3 (8) → BN → ReLU → pointwise 1×1 (8→16) → ReLU → GAP → Flatten → Dense(16→3).
    private static (OnnxModel Model, string Pointwise) Block(bool deadOddChannels)
    {
        var stem = new Conv2d(1, 8, 3, 3, 1, 1, 1, 1);
        var bn1 = new BatchNorm(8);
        var dw = new Conv2d(8, 8, 3, 3, 1, 1, 1, 1, 8);
        var bn2 = new BatchNorm(8);
        var net = new Network([1, 6, 6], [stem, bn1, new Relu(), dw, bn2, new Relu(), new Conv2d(8, 16, 1, 1), new Relu(),
            new GlobalAvgPool(), new Flatten(), new Dense(16, 3)]);
        net.Initialize(7);
        var rng = new Random(3);
        foreach (var bn in new[] { bn1, bn2 })
            for (int c = 0; c < 8; c++)
            {
                bn.RunningMean[c] = (float)(rng.NextDouble() - 0.5);
                bn.RunningVar[c] = 0.5f + (float)rng.NextDouble();
                bn.Shift.Value[c] = (float)(rng.NextDouble() - 0.3);
            }
        if (deadOddChannels)
        {
            // Odd channels carry exactly zero all the way to the pointwise layer, so removing them changes nothing.
            for (int c = 1; c < 8; c += 2)
            {
                stem.Weight.Value.AsSpan(c * 9, 9).Clear();
                stem.Bias!.Value[c] = 0;
                dw.Bias!.Value[c] = 0;
                foreach (var bn in new[] { bn1, bn2 }) { bn.RunningMean[c] = 0; bn.Shift.Value[c] = 0; }
            }
        }
        var model = OnnxModelBridge.ToOnnxModel(net.ToOnnxGraph("block", "x", "y"));
        return (model, model.Graph.Nodes.Where(n => n.OpType == "Conv").ElementAt(2).Name);
    }

    private static float[] Run(ModelRunner runner, float[] x) => runner.Run([Tensor.FromArray<float>(x, 1, 1, 6, 6)])[0];

    [Fact]
    public void PruningThroughADepthwiseConvRemovesItsChannelsAndKeepsTheOutput()
    {
        var (model, pointwise) = Block(deadOddChannels: true);
        var reference = OnnxReader.Load(OnnxWriter.ToBytes(model));
        var layers = MagnitudePruner.PruneStructured(model, 0.5, new HashSet<string> { pointwise });
        var stem = Assert.Single(layers);
        Assert.Equal((8, 4), (stem.ChannelsBefore, stem.ChannelsAfter));
        var dw = model.Graph.Nodes.Where(n => n.OpType == "Conv").ElementAt(1);
        Assert.Equal(4, dw.GetInt("group", 0));
        Assert.Equal([4, 1, 3, 3], model.Graph.Initializers[dw.Inputs[1]].Shape.ToArray());
        Assert.Equal([16, 4, 1, 1], model.Graph.Initializers[model.Graph.Nodes.First(n => n.Name == pointwise).Inputs[1]].Shape.ToArray());
        foreach (var bn in model.Graph.Nodes.Where(n => n.OpType == "BatchNormalization"))
            Assert.Equal(4, model.Graph.Initializers[bn.Inputs[3]].ElementCount);

        var rng = new Random(5);
        using var ours = new OursRunner(model);
        using var ortPruned = new OrtRunner(model);
        using var ortReference = new OrtRunner(reference);
        for (int s = 0; s < 4; s++)
        {
            var x = Enumerable.Range(0, 36).Select(_ => (float)rng.NextDouble()).ToArray();
            var expected = Run(ortReference, x);
            var a = Run(ortPruned, x);
            var b = Run(ours, x);
            for (int k = 0; k < 3; k++)
            {
                Assert.Equal(expected[k], a[k], 4);
                Assert.Equal(expected[k], b[k], 4);
            }
        }
    }

    [Fact]
    public void TheWholeBlockShrinksWhenNothingIsExcluded()
    {
        var (model, _) = Block(deadOddChannels: false);
        var layers = MagnitudePruner.PruneStructured(model, 0.5, new HashSet<string>());
        Assert.Equal(2, layers.Count); // stem (through the depthwise) and pointwise (through GAP and Flatten); the Dense feeds the output
        Assert.All(layers, l => Assert.Equal(l.ChannelsBefore / 2, l.ChannelsAfter));
        using var ours = new OursRunner(model);
        Assert.Equal(3, Run(ours, new float[36]).Length);
    }
}
