using EdgeAgent.Compression.Evaluation;
using EdgeAgent.Compression.Factorization;
using EdgeAgent.Compression.Pruning;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using Xunit;

namespace EdgeAgent.Compression.Tests;

public class PruneAndLowRankTests
{
    private static float[] Run(OnnxModel model, float[] x)
    {
        using var ort = new OrtRunner(model);
        return ort.Run([Tensor.FromArray<float>(x, 1, 16)])[0];
    }

    [Fact]
    public void SvdReconstructsTheMatrix()
    {
        var rng = new Random(2);
        var a = Enumerable.Range(0, 7 * 5).Select(_ => (float)rng.NextDouble()).ToArray();
        foreach (var (rows, cols) in new[] { (7, 5), (5, 7) })
        {
            var (u, s, v) = JacobiSvd.Decompose(a, rows, cols);
            int k = Math.Min(rows, cols);
            for (int i = 1; i < k; i++) Assert.True(s[i - 1] >= s[i]);
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                {
                    double sum = 0;
                    for (int j = 0; j < k; j++) sum += u[r * k + j] * s[j] * v[c * k + j];
                    Assert.Equal(a[r * cols + c], sum, 4);
                }
        }
    }

    [Fact]
    public void LowRankRecoversATrulyLowRankLayerAndShrinksIt()
    {
        var model = TinyModels.Mlp(inputs: 16, hidden: 64);
        // Make fc1's 64×16 weight exactly rank 3.
        var rng = new Random(9);
        var left = Enumerable.Range(0, 64 * 3).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var right = Enumerable.Range(0, 3 * 16).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var w = model.Graph.Initializers["fc1.weight"].Span<float>();
        for (int r = 0; r < 64; r++)
            for (int c = 0; c < 16; c++)
                w[r * 16 + c] = left[r * 3] * right[c] + left[r * 3 + 1] * right[16 + c] + left[r * 3 + 2] * right[32 + c];
        var reference = OnnxReader.Load(OnnxWriter.ToBytes(model));

        var layers = LowRankFactorizer.Factorize(model, new LowRankOptions { Energy = 0.9999, Exclude = new HashSet<string> { "fc2" } });
        var fc1 = Assert.Single(layers);
        Assert.Equal(3, fc1.Rank);
        Assert.Equal(3L * (16 + 64), fc1.ParametersAfter);
        Assert.Equal(reference.Graph.Nodes.Count + 1, model.Graph.Nodes.Count);
        var x = TinyModels.Inputs(1, 5);
        var sqnr = new Sqnr();
        sqnr.Add(Run(reference, x), Run(model, x));
        Assert.True(sqnr.Decibels > 60, $"{sqnr.Decibels} dB");
    }

    [Fact]
    public void LowRankLeavesLayersAloneWhenFactorsWouldBeBigger()
    {
        var model = TinyModels.Mlp(inputs: 16, hidden: 64);
        Assert.Empty(LowRankFactorizer.Factorize(model, new LowRankOptions { Rank = 16, Exclude = new HashSet<string> { "fc2" } }));
    }

    [Fact]
    public void StructuredPruningShrinksBothSidesAndTheModelStillRuns()
    {
        var model = TinyModels.Mlp(inputs: 16, hidden: 64);
        var layers = MagnitudePruner.PruneStructured(model, 0.5, new HashSet<string>());
        var only = Assert.Single(layers); // fc2 feeds the output and keeps its channels
        Assert.Equal(64, only.ChannelsBefore);
        Assert.Equal(32, only.ChannelsAfter);
        Assert.Equal([32, 16], model.Graph.Initializers["fc1.weight"].Shape.ToArray());
        Assert.Equal([32], model.Graph.Initializers["fc1.bias"].Shape.ToArray());
        Assert.Equal([32, 8], model.Graph.Initializers["fc2.weight"].Shape.ToArray());
        Assert.Equal(8, Run(model, TinyModels.Inputs(1)).Length);
    }

    [Fact]
    public void StructuredPruningKeepsTheStrongestChannels()
    {
        var model = TinyModels.Mlp(inputs: 16, hidden: 64);
        var w = model.Graph.Initializers["fc1.weight"].Span<float>();
        for (int i = 0; i < 16; i++) w[5 * 16 + i] = 10f; // channel 5 is by far the strongest
        MagnitudePruner.PruneStructured(model, 0.9, new HashSet<string>());
        var kept = model.Graph.Initializers["fc1.weight"].Span<float>();
        Assert.Contains(10f, kept.ToArray());
    }

    [Fact]
    public void UnstructuredPruningZeroesTheSmallestHalf()
    {
        var model = TinyModels.Mlp();
        var before = model.Graph.Initializers["fc1.weight"].ToArray<float>();
        MagnitudePruner.PruneUnstructured(model, 0.5, new HashSet<string>());
        var after = model.Graph.Initializers["fc1.weight"].ToArray<float>();
        Assert.Equal(before.Length / 2, after.Count(v => v == 0));
        float threshold = before.Select(MathF.Abs).Order().ElementAt(before.Length / 2);
        for (int i = 0; i < before.Length; i++)
            if (MathF.Abs(before[i]) > threshold) Assert.Equal(before[i], after[i]);
    }
}
