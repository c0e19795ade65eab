using EdgeAgent.Compression.Data;
using EdgeAgent.Compression.Evaluation;
using EdgeAgent.Compression.Quantization;
using EdgeAgent.Runtime.Execution;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using EdgeAgent.Runtime.Training;
using Xunit;

namespace EdgeAgent.Compression.Tests;

public sealed class BatchNormFoldingTests
{
    // Conv 3×3 (bias) → BN → Relu → depthwise 3×3 (no bias) → BN → Relu → GAP → Flatten → Dense, with BN statistics far from identity.
    private static OnnxModel ConvBnModel()
    {
        var bn1 = new BatchNorm(6);
        var bn2 = new BatchNorm(6);
        var net = new Network([2, 8, 8], [new Conv2d(2, 6, 3, 3, 1, 1, 1, 1), bn1, new Relu(),
            new Conv2d(6, 6, 3, 3, 1, 1, 1, 1, 6, bias: false), bn2, new Relu(), new GlobalAvgPool(), new Flatten(), new Dense(6, 4)]);
        net.Initialize(11);
        var rng = new Random(2);
        foreach (var bn in new[] { bn1, bn2 })
            for (int c = 0; c < 6; c++)
            {
                bn.RunningMean[c] = (float)(rng.NextDouble() - 0.5);
                bn.RunningVar[c] = 0.2f + 2 * (float)rng.NextDouble();
                bn.Scale.Value[c] = 0.5f + (float)rng.NextDouble();
                bn.Shift.Value[c] = (float)(rng.NextDouble() - 0.5);
            }
        return OnnxModelBridge.ToOnnxModel(net.ToOnnxGraph("convbn", "x", "y"));
    }

    private static SampleSet Samples(int count, int seed)
    {
        var rng = new Random(seed);
        var samples = Enumerable.Range(0, count)
            .Select(_ => new[] { Tensor.FromArray<float>(Enumerable.Range(0, 128).Select(_ => (float)rng.NextDouble()).ToArray(), 1, 2, 8, 8) }).ToList();
        return new SampleSet(["x"], samples, null, "random images");
    }

    [Fact]
    public void FoldingRemovesEveryBatchNormAndKeepsTheOutputs()
    {
        var model = ConvBnModel();
        var reference = OnnxReader.Load(OnnxWriter.ToBytes(model));
        var folded = BatchNormFolding.Fold(model.Graph);
        Assert.Equal(2, folded.Count);
        Assert.DoesNotContain(model.Graph.Nodes, n => n.OpType == "BatchNormalization");
        Assert.All(model.Graph.Nodes.Where(n => n.OpType == "Conv"), c => Assert.NotNull(c.InputOrNull(2)));

        var written = OnnxReader.Load(OnnxWriter.ToBytes(model));
        using var expected = new OrtRunner(reference);
        using var ort = new OrtRunner(written);
        using var ours = new OursRunner(written);
        var data = Samples(6, 3);
        foreach (var x in data.Samples)
        {
            var e = expected.Run(x)[0];
            var a = ort.Run(x)[0];
            var b = ours.Run(x)[0];
            for (int k = 0; k < e.Length; k++)
            {
                Assert.Equal(e[k], a[k], 4);
                Assert.Equal(e[k], b[k], 4);
            }
        }
    }

    [Fact]
    public void ABatchNormWhoseInputIsAlsoReadElsewhereStays()
    {
        var model = ConvBnModel();
        var g = model.Graph;
        var conv = g.Nodes.First(n => n.OpType == "Conv");
        g.Outputs.Add(new ValueInfo(conv.Outputs[0], DataType.Float, []));
        var folded = BatchNormFolding.Fold(g);
        Assert.Single(folded);
        Assert.Single(g.Nodes, n => n.OpType == "BatchNormalization");
        Assert.Equal(conv.Outputs[0], g.Nodes.First(n => n.OpType == "BatchNormalization").Inputs[0]);
    }

    [Fact]
    public void QuantizingFoldsFirstAndTheReportComparesEachConvWithItsNormalisedReference()
    {
        var model = ConvBnModel();
        string dir = Directory.CreateTempSubdirectory("bnfold").FullName;
        try
        {
            string floatPath = Path.Combine(dir, "float.onnx"), qPath = Path.Combine(dir, "q.onnx");
            File.WriteAllBytes(floatPath, OnnxWriter.ToBytes(model));
            var result = QdqQuantizer.Quantize(model, Samples(64, 5), new QuantizeOptions { Activations = QuantizedType.Int8 });
            Assert.Equal(2, result.FoldedBatchNorms.Count);
            File.WriteAllBytes(qPath, OnnxWriter.ToBytes(model));
            var quantized = OnnxReader.Load(qPath);
            Assert.DoesNotContain(quantized.Graph.Nodes, n => n.OpType == "BatchNormalization");

            var report = ModelReporter.Measure(qPath, quantized, floatPath, OnnxReader.Load(floatPath), Samples(40, 9));
            Assert.True(report.OutputSqnrDb > 25, $"output SQNR {report.OutputSqnrDb:0.0} dB");
            // Compared against the pre-BN value, a folded Conv would score near or below 0 dB.
            foreach (var layer in report.Layers.Where(l => l.OpType == "Conv"))
                Assert.True(layer.SqnrDb > 25, $"{layer.Node}: SQNR {layer.SqnrDb:0.0} dB");
            Assert.True(report.EngineMaxDifferenceSteps <= 1.0 + 1e-3, $"ours vs ORT: {report.EngineMaxDifferenceSteps} steps");
        }
        finally { Directory.Delete(dir, true); }
    }
}
