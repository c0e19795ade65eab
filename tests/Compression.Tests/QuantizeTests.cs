using EdgeAgent.Compression.Data;
using EdgeAgent.Compression.Evaluation;
using EdgeAgent.Compression.Quantization;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using Xunit;

namespace EdgeAgent.Compression.Tests;

public class QuantizeTests
{
    private static SampleSet Samples(int count, int seed = 7)
    {
        var x = TinyModels.Inputs(count, seed);
        var samples = Enumerable.Range(0, count).Select(i => new[] { Tensor.FromArray<float>(x.AsSpan(i * 16, 16), 1, 16) }).ToList();
        return new SampleSet(["input"], samples, null, "test");
    }

    [Theory]
    [InlineData(CalibrationMethod.MinMax, QuantizedType.UInt8, false)]
    [InlineData(CalibrationMethod.Percentile, QuantizedType.Int8, false)]
    [InlineData(CalibrationMethod.Entropy, QuantizedType.UInt8, false)]
    [InlineData(CalibrationMethod.Mse, QuantizedType.UInt8, true)]
    public void QuantizedModelRunsInOnnxRuntimeAndTracksTheFloatModel(CalibrationMethod method, QuantizedType activations, bool perTensor)
    {
        var model = TinyModels.Mlp();
        var floatBytes = OnnxWriter.ToBytes(model);
        QdqQuantizer.Quantize(model, Samples(200), new QuantizeOptions { Method = method, Activations = activations, PerTensorWeights = perTensor });
        var quantized = OnnxReader.Load(OnnxWriter.ToBytes(model));

        using var reference = new OursRunner(OnnxReader.Load(floatBytes));
        using var ort = new OrtRunner(quantized);
        var test = Samples(300, seed: 99);
        var sqnr = new Sqnr();
        int agree = 0;
        for (int s = 0; s < test.Count; s++)
        {
            var r = reference.Run(test.Samples[s])[0];
            var q = ort.Run(test.Samples[s])[0];
            sqnr.Add(r, q);
            if (ModelReporter.ArgMax(r) == ModelReporter.ArgMax(q)) agree++;
        }
        // KL calibration clips hard on small, spiky histograms (it measured 11.5 dB on the Fashion-MNIST MLP too);
        // the other methods must keep the output close.
        double floor = method == CalibrationMethod.Entropy ? 10 : 25;
        Assert.True(sqnr.Decibels > floor, $"output SQNR {sqnr.Decibels:0.0} dB");
        Assert.True(agree >= (method == CalibrationMethod.Entropy ? 0.75 : 0.9) * test.Count, $"top-1 agreement {agree}/{test.Count}");
    }

    [Theory]
    [InlineData(QuantizedType.UInt8)]
    [InlineData(QuantizedType.Int8)]
    public void OurRuntimeAndOnnxRuntimeAgreeWithinOneQuantizationStep(QuantizedType activations)
    {
        var model = TinyModels.Mlp(hidden: 48);
        QdqQuantizer.Quantize(model, Samples(200), new QuantizeOptions { Activations = activations });
        var quantized = OnnxReader.Load(OnnxWriter.ToBytes(model));
        Assert.True(OursRunner.Supports(quantized));
        var (agreement, maxSteps) = ModelReporter.CompareEngines(quantized, Samples(300, seed: 21));
        Assert.True(maxSteps <= 1.0 + 1e-3, $"max difference {maxSteps} output steps");
        Assert.True(agreement >= 0.97, $"top-1 agreement {agreement}");
    }

    [Fact]
    public void WeightsBiasesAndActivationsHaveTheStandardQdqForm()
    {
        var model = TinyModels.Mlp();
        var result = QdqQuantizer.Quantize(model, Samples(100), new QuantizeOptions());
        var g = model.Graph;
        Assert.Equal(2, result.Layers.Count);
        Assert.DoesNotContain(g.Initializers.Values, t => t.DataType == DataType.Float && t.ElementCount > 32);

        var fc1 = g.Nodes.Single(n => n.Name == "fc1");
        var wDq = g.Producer(fc1.Inputs[1])!;
        Assert.Equal("DequantizeLinear", wDq.OpType);
        Assert.Equal(0, wDq.GetInt("axis", -1)); // transB=1: output channels are rows
        var wq = g.Initializers[wDq.Inputs[0]];
        Assert.Equal(DataType.Int8, wq.DataType);
        var wScale = g.Initializers[wDq.Inputs[1]].ToArray<float>();
        Assert.Equal(32, wScale.Length);
        Assert.Equal(127, wq.ToArray<sbyte>().Max(v => Math.Abs((int)v)));
        Assert.True(wq.ToArray<sbyte>().All(v => v >= -127));

        var fc2 = g.Nodes.Single(n => n.Name == "fc2");
        Assert.Equal(1, g.Producer(fc2.Inputs[1])!.GetInt("axis", -1)); // transB=0: output channels are columns

        // Bias: int32 with scale = input scale × weight scale, per channel.
        var bDq = g.Producer(fc1.Inputs[2])!;
        Assert.Equal(DataType.Int32, g.Initializers[bDq.Inputs[0]].DataType);
        var bScale = g.Initializers[bDq.Inputs[1]].ToArray<float>();
        var inDq = g.Producer(fc1.Inputs[0])!;
        float inScale = g.Initializers[inDq.Inputs[1]].ToArray<float>()[0];
        for (int c = 0; c < 32; c++) Assert.Equal(inScale * wScale[c], bScale[c], 6);

        // The activation QDQ after fc1 sits after the Relu (fused); the graph output stays the float output of fc2.
        Assert.Equal("DequantizeLinear", g.Producer(fc2.Inputs[0])!.OpType);
        Assert.Same(fc2, g.Producer("logits"));
        Assert.Contains(g.Nodes, n => n.OpType == "Relu" && n.Outputs[0] == "h_relu");
    }

    [Fact]
    public void QuantizedGraphOutputKeepsItsNameBehindADequantizeLinear()
    {
        var model = TinyModels.Mlp();
        var result = QdqQuantizer.Quantize(model, Samples(100), new QuantizeOptions { QuantizeGraphOutputs = true });
        var g = model.Graph;
        var dq = g.Producer("logits")!;
        Assert.Equal("DequantizeLinear", dq.OpType);
        Assert.Equal("QuantizeLinear", g.Producer(dq.Inputs[0])!.OpType);
        Assert.Equal("logits.f", g.Nodes.Single(n => n.Name == "fc2").Outputs[0]);
        Assert.NotNull(result.Layers.Single(l => l.Node == "fc2").OutputParameters);
        Assert.Contains(OnnxReader.Load(OnnxWriter.ToBytes(model)).Graph.Outputs, o => o.Name == "logits");
    }

    [Fact]
    public void SymmetricWeightsAndBiasesStoreNoZeroPointAndActivationsShareTheirs()
    {
        var model = TinyModels.Mlp();
        QdqQuantizer.Quantize(model, Samples(100), new QuantizeOptions());
        var g = model.Graph;
        foreach (var layer in new[] { "fc1", "fc2" })
        {
            var node = g.Nodes.Single(n => n.Name == layer);
            var w = g.Producer(node.Inputs[1])!;
            var b = g.Producer(node.Inputs[2])!;
            // Short names derived from the layer, and no zero-point input: DequantizeLinear's default 0 is the symmetric one.
            Assert.Equal([$"{layer}.wq", $"{layer}.ws"], w.Inputs);
            Assert.Equal($"{layer}.w", w.Outputs[0]);
            Assert.Equal($"DQ:{layer}.w", w.Name);
            Assert.Equal([$"{layer}.bq", $"{layer}.bs"], b.Inputs);
            Assert.Equal(DataType.Int32, g.Initializers[$"{layer}.bq"].DataType);
        }
        Assert.DoesNotContain(g.Initializers.Values, t => t.DataType == DataType.Int8 && t.ElementCount < 64);
        Assert.DoesNotContain(g.Initializers.Values, t => t.DataType == DataType.Int32 && t.ToArray<int>().All(v => v == 0));
        // Both activation QDQs (input, h_relu) have u8 zero points; equal ones are one initializer.
        var zeroPoints = g.Nodes.Where(n => n.OpType == "QuantizeLinear").Select(n => n.Inputs[2]).ToList();
        Assert.Equal(2, zeroPoints.Count);
        var values = zeroPoints.Select(z => g.Initializers[z].GetInt64(0)).ToList();
        Assert.Equal(values.Distinct().Count(), zeroPoints.Distinct().Count());
        Assert.All(zeroPoints, z => Assert.StartsWith("zp.u8.", z));
        // Every name is unique, as ONNX requires of values and nodes.
        var produced = g.Nodes.SelectMany(n => n.Outputs).Concat(g.Initializers.Keys).Concat(g.Inputs.Select(i => i.Name)).ToList();
        Assert.Equal(produced.Count, produced.Distinct().Count());
        Assert.Equal(g.Nodes.Count, g.Nodes.Select(n => n.Name).Distinct().Count());
    }

    [Fact]
    public void QuantizingTheSameModelTwiceWritesTheSameBytes()
    {
        var first = TinyModels.Mlp();
        var second = TinyModels.Mlp();
        QdqQuantizer.Quantize(first, Samples(60), new QuantizeOptions());
        QdqQuantizer.Quantize(second, Samples(60), new QuantizeOptions());
        Assert.Equal(OnnxWriter.ToBytes(first), OnnxWriter.ToBytes(second));
    }

    [Fact]
    public void NamesThatAreTakenGetASuffix()
    {
        var model = TinyModels.Mlp();
        model.Graph.Initializers["fc1.wq"] = Tensor.FromArray<float>([1f], 1);
        model.Graph.Nodes.Add(new Node("Identity", ["fc1.wq"], ["fc1.w"], "DQ:fc1.w"));
        model.Graph.Outputs.Add(new ValueInfo("fc1.w", DataType.Float, null));
        QdqQuantizer.Quantize(model, Samples(40), new QuantizeOptions());
        var g = model.Graph;
        var w = g.Producer(g.Nodes.Single(n => n.Name == "fc1").Inputs[1])!;
        Assert.Equal("fc1.wq_1", w.Inputs[0]);
        Assert.Equal("fc1.w_1", w.Outputs[0]);
        Assert.Equal("DQ:fc1.w_1", w.Name);
        Assert.Equal(DataType.Float, g.Initializers["fc1.wq"].DataType);
    }

    [Fact]
    public void BiasCorrectionRemovesEachChannelsMeanShift()
    {
        // Per-tensor weights and min/max ranges leave a visible per-channel mean error for the correction to remove.
        var calibration = Samples(200);
        double MeanShift(bool correct)
        {
            var model = TinyModels.Mlp(seed: 4);
            var reference = OnnxReader.Load(OnnxWriter.ToBytes(model));
            var result = QdqQuantizer.Quantize(model, calibration, new QuantizeOptions
            {
                Method = CalibrationMethod.MinMax, PerTensorWeights = true, BiasCorrection = correct,
            });
            Assert.Equal(correct ? 2 : 0, result.BiasCorrectedLayers);
            using var floatRunner = new OursRunner(ModelRunner.WithExtraOutputs(reference, ["h"]));
            using var quantRunner = new OursRunner(ModelRunner.WithExtraOutputs(model, ["h"]));
            var diff = new double[32];
            for (int s = 0; s < calibration.Count; s++)
            {
                var f = floatRunner.Run(calibration.Samples[s])[1];
                var q = quantRunner.Run(calibration.Samples[s])[1];
                for (int c = 0; c < 32; c++) diff[c] += q[c] - f[c];
            }
            return diff.Average(d => Math.Abs(d / calibration.Count));
        }
        double before = MeanShift(false), after = MeanShift(true);
        Assert.True(before > 1e-4, $"the uncorrected model has almost no mean shift ({before}), so this test shows nothing");
        Assert.True(after < 0.25 * before, $"mean |shift| per channel {before:G3} without and {after:G3} with bias correction");
    }

    [Fact]
    public void ExcludedNodesStayFloat()
    {
        var model = TinyModels.Mlp();
        QdqQuantizer.Quantize(model, Samples(50), new QuantizeOptions { Exclude = new HashSet<string> { "fc2" } });
        var fc2 = model.Graph.Nodes.Single(n => n.Name == "fc2");
        Assert.Equal("fc2.weight", fc2.Inputs[1]);
        Assert.Equal(DataType.Float, model.Graph.Initializers["fc2.weight"].DataType);
        Assert.Equal("DequantizeLinear", model.Graph.Producer(model.Graph.Nodes.Single(n => n.Name == "fc1").Inputs[1])!.OpType);
    }

    [Fact]
    public void QuantizedFileIsAboutAQuarterOfTheFloatFile()
    {
        var model = TinyModels.Mlp(inputs: 64, hidden: 256);
        long before = OnnxWriter.ToBytes(model).Length;
        var x = TinyModels.Inputs(50 * 4, 3);
        var samples = Enumerable.Range(0, 50).Select(i => new[] { Tensor.FromArray<float>(x.AsSpan(i * 64, 64), 1, 64) }).ToList();
        QdqQuantizer.Quantize(model, new SampleSet(["input"], samples, null, "test"), new QuantizeOptions());
        var bytes = OnnxWriter.ToBytes(model);
        long after = bytes.Length;
        // Int8 weights are 0.25× of float; what remains is int32 biases and the per-channel scales of weights and
        // biases (12 bytes per output channel), plus the graph: a few dozen bytes per node and tensor header, no more
        // (the long generated names and zero-point tensors of before took about twice that).
        long data = model.Graph.Initializers.Values.Sum(t => (long)t.ByteLength);
        long graph = after - data;
        int entries = model.Graph.Nodes.Count + model.Graph.Initializers.Count;
        Assert.True(graph <= 48 * entries + 200, $"{graph} bytes of graph for {model.Graph.Nodes.Count} nodes and {model.Graph.Initializers.Count} initializers");
        Assert.True(after <= 0.31 * before, $"{after} vs {before}"); // fan-in 64: 12 bytes per channel are 0.05× on top of 0.25×
    }

    [Fact]
    public void ClippingMethodsIgnoreRareOutliers()
    {
        var stats = new ActivationStatistics();
        var rng = new Random(3);
        var values = Enumerable.Range(0, 100_000).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        values[5] = 100f;
        stats.ObserveRange(values);
        stats.ObserveHistogram(values);
        Assert.Equal(100f, stats.Range(CalibrationMethod.MinMax, QuantizedType.Int8).Max);
        foreach (var method in new[] { CalibrationMethod.Percentile, CalibrationMethod.Entropy })
        {
            var (min, max) = stats.Range(method, QuantizedType.Int8);
            Assert.InRange(max, 0.8f, 10f);
            Assert.InRange(min, -10f, -0.8f);
        }
        // MSE weighs the single outlier's clipping error against everyone's rounding error: it clips, but less.
        Assert.InRange(stats.Range(CalibrationMethod.Mse, QuantizedType.Int8).Max, 1f, 99f);
    }

    [Fact]
    public void ExactZerosDoNotPullTheClippingThresholdDown()
    {
        // A ReLU output: most values exactly 0, the rest spread over (0, 4]. The zeros are exact at any scale, so the
        // threshold must follow the non-zero values (before, their spike in bin 0 made entropy clip at a fraction of the range).
        var stats = new ActivationStatistics();
        var rng = new Random(5);
        var values = Enumerable.Range(0, 200_000).Select(i => i % 10 < 9 ? 0f : (float)(rng.NextDouble() * 4)).ToArray();
        stats.ObserveRange(values);
        stats.ObserveHistogram(values);
        foreach (var method in new[] { CalibrationMethod.Entropy, CalibrationMethod.Mse, CalibrationMethod.Percentile })
        {
            var (min, max) = stats.Range(method, QuantizedType.UInt8);
            Assert.Equal(0f, min);
            Assert.True(max >= 3.6f, $"{method} clips a uniform (0, 4] at {max}");
        }
    }
}
