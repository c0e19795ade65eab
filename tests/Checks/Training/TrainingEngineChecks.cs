using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Checks.Training;

/// <summary>Matrix products, optimizers, learning end to end, model split, head growth and ONNX export.</summary>
public static class TrainingEngineChecks
{
    public static void Register(List<Check> checks)
    {
        checks.Add(new("training", "blas.products-match-naive", () =>
        {
            var random = new Random(1);
            // Sizes straddle the kernel's row tiles, its 16-column panels (and the narrower last one), and
            // K above 512, where the panel scratch is rented rather than on the stack.
            foreach (var (m, n, k) in new[] { (1, 1, 1), (4, 16, 3), (5, 19, 7), (9, 33, 17), (3, 7, 64), (13, 40, 2), (7, 21, 600), (1, 48, 33) })
            {
                var a = GradientCheck.Uniform(m * k, random);
                var b = GradientCheck.Uniform(k * n, random);
                var expect = new float[m * n];
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++)
                    {
                        double s = 0;
                        for (int p = 0; p < k; p++) s += (double)a[i * k + p] * b[p * n + j];
                        expect[i * n + j] = (float)s;
                    }
                var at = Transposed(a, m, k);
                var bt = Transposed(b, k, n);
                var c = new float[m * n];
                TrainingBlas.Gemm(a, b, c, m, n, k, false);
                Close(expect, c, $"A·B {m}x{n}x{k}");
                TrainingBlas.GemmTransA(at, b, c, m, n, k, false);
                Close(expect, c, $"Aᵀ·B {m}x{n}x{k}");
                TrainingBlas.GemmTransB(a, bt, c, m, n, k, false);
                Close(expect, c, $"A·Bᵀ {m}x{n}x{k}");
                TrainingBlas.Gemm(a, b, c, m, n, k, true);
                Close(expect.Select(v => 2 * v).ToArray(), c, $"A·B accumulate {m}x{n}x{k}");
                TrainingBlas.GemmTransA(at, b, c, m, n, k, true);
                Close(expect.Select(v => 3 * v).ToArray(), c, $"Aᵀ·B accumulate {m}x{n}x{k}");
                TrainingBlas.GemmTransB(a, bt, c, m, n, k, true);
                Close(expect.Select(v => 4 * v).ToArray(), c, $"A·Bᵀ accumulate {m}x{n}x{k}");
            }
            // K = 0 is an empty sum (the kernel itself rejects it): zero, or C unchanged when accumulating.
            var kept = new float[] { 1, 2, 3, 4, 5, 6 };
            TrainingBlas.Gemm([], [], kept, 2, 3, 0, true);
            Expect.True(kept.SequenceEqual(new float[] { 1, 2, 3, 4, 5, 6 }), "K = 0 accumulate leaves C");
            TrainingBlas.GemmTransB([], [], kept, 2, 3, 0, false);
            Expect.True(kept.All(v => v == 0), "K = 0 overwrite zeroes C");
        }));

        checks.Add(new("training", "optim.sgd-momentum-and-adam-minimise-a-quadratic", () =>
        {
            foreach (Optimizer optimizer in new Optimizer[] { new Sgd(0.05f, 0.9f), new Adam(0.05f) })
            {
                // f(θ) = ½ Σ a_i (θ_i − t_i)², an ill-conditioned bowl.
                var p = new Parameter("theta", [3]);
                float[] a = [1f, 10f, 0.3f], t = [2f, -1f, 0.5f];
                for (int step = 0; step < 600; step++)
                {
                    for (int i = 0; i < 3; i++) p.Grad[i] = a[i] * (p.Value[i] - t[i]);
                    optimizer.Step([p]);
                }
                for (int i = 0; i < 3; i++)
                    Expect.True(MathF.Abs(p.Value[i] - t[i]) < 1e-2f, $"{optimizer.GetType().Name}: θ[{i}] = {p.Value[i]}, minimum at {t[i]}");
                Expect.True(p.Grad.All(g => g == 0), "Step clears gradients");
            }
        }));

        checks.Add(new("training", "optim.adam-first-step-is-lr-times-sign", () =>
        {
            var p = new Parameter("w", [3]);
            p.Grad[0] = 1e-3f; p.Grad[1] = -50f; p.Grad[2] = 0f;
            new Adam(0.01f).Step([p]);
            Expect.True(MathF.Abs(p.Value[0] + 0.01f) < 1e-5f && MathF.Abs(p.Value[1] - 0.01f) < 1e-5f && p.Value[2] == 0f,
                $"bias-corrected first step is ±lr whatever the gradient's size: [{string.Join(", ", p.Value)}]");
            var frozen = new Parameter("f", [1]) { Frozen = true };
            frozen.Grad[0] = 5f;
            new Sgd(0.1f).Step([frozen]);
            Expect.Equal(0f, frozen.Value[0], "a frozen parameter does not move");
        }));

        checks.Add(new("training", "train.cnn-learns-separable-images", () =>
        {
            // Two classes of 8x8 images: a bright vertical bar or a bright horizontal bar, at random places, in noise.
            var random = new Random(5);
            int count = 96;
            var x = new float[count * 64];
            var y = new int[count];
            for (int s = 0; s < count; s++)
            {
                y[s] = s % 2;
                int at = random.Next(1, 7);
                for (int i = 0; i < 64; i++) x[s * 64 + i] = (float)(random.NextDouble() * 0.4);
                for (int i = 0; i < 8; i++) x[s * 64 + (y[s] == 0 ? i * 8 + at : at * 8 + i)] += 1f;
            }
            var network = new Network([1, 8, 8],
            [
                new Conv2d(1, 4, 3, 3, padH: 1, padW: 1), new BatchNorm(4), new Relu(), new MaxPool2d(2),
                new Conv2d(4, 8, 3, 3, padH: 1, padW: 1), Clip.Relu6(), new GlobalAvgPool(), new Flatten(), new Dense(8, 2),
            ]);
            network.Initialize(11);
            float before = Accuracy(network, x, y);
            var report = Trainer.Fit(network, new TrainingSet(x, [1, 8, 8], y),
                new TrainerOptions { Epochs = 15, BatchSize = 16, Seed = 3 }, new Adam(0.02f));
            float after = Accuracy(network, x, y);
            Expect.True(after >= 0.95f, $"training accuracy {after:P0} after 15 epochs (was {before:P0}), last loss {report.FinalLoss:F3}");
            Expect.True(report.FinalLoss < report.EpochLosses[0], $"loss fell: {string.Join(", ", report.EpochLosses.Select(l => l.ToString("F3")))}");
        }));

        checks.Add(new("training", "network.split-and-concat-compute-the-same", () =>
        {
            var network = new Network([2, 6, 6],
            [
                new Conv2d(2, 3, 3, 3, padH: 1, padW: 1), new Relu(), new MaxPool2d(2), new Flatten(), new Dense(27, 8), new Relu(), new Dense(8, 4),
            ]);
            network.Initialize(3);
            var random = new Random(8);
            var x = GradientCheck.Uniform(5 * 72, random);
            var whole = network.Predict(x, 5);
            var (backbone, head) = network.Split(4);
            Expect.True(backbone.OutputShape.SequenceEqual([27]), "embedding is the flattened feature map");
            var embeddings = backbone.Predict(x, 5);
            Close(whole, head.Predict(embeddings, 5), "head(backbone(x)) = network(x)");
            Close(whole, Network.Concat(backbone, head).Predict(x, 5), "concat(backbone, head)");
            head.Parameters.First().Value[0] += 1f;
            Expect.True(network.Parameters.First(p => p.Shape.Length == 2).Value[0] != head.Parameters.First().Value[0], "split parts are copies");
        }));

        checks.Add(new("training", "network.grow-outputs-keeps-old-logits", () =>
        {
            var head = new Network([6], [new Dense(6, 5), new Relu(), new Dense(5, 2)]);
            head.Initialize(4);
            var x = GradientCheck.Uniform(3 * 6, new Random(2));
            var before = head.Predict(x, 3);
            HeadGrowth.AddClasses(head, 3, new Random(1));
            Expect.True(head.OutputShape.SequenceEqual([5]), $"head now has 5 outputs, has {TrainingTensor.Describe(head.OutputShape)}");
            var after = head.Predict(x, 3);
            for (int s = 0; s < 3; s++)
                for (int o = 0; o < 2; o++)
                    Expect.Equal(before[s * 2 + o], after[s * 5 + o], $"sample {s} old logit {o}");
        }));

        checks.Add(new("training", "network.shape-errors-name-the-layer", () =>
        {
            var e = Expect.Throws<ArgumentException>(() => new Network([3, 8, 8], [new Conv2d(3, 4, 3, 3), new Dense(144, 2)]), "dense after conv");
            Expect.True(e.Message.Contains("dense1") && e.Message.Contains("Flatten"), e.Message);
            var net = new Network([4], [new Dense(4, 2)]);
            var wrong = Expect.Throws<ArgumentException>(() => net.Forward(new TrainingTensor([2, 5])), "wrong input");
            Expect.True(wrong.Message.Contains("[N, 4]"), wrong.Message);
        }));

        checks.Add(new("training", "export.onnx-graph-maps-every-layer", () =>
        {
            var network = new Network([1, 8, 8],
            [
                new Conv2d(1, 4, 3, 3, strideH: 1, strideW: 1, padH: 1, padW: 1), new BatchNorm(4), Clip.Relu6(), new MaxPool2d(2),
                new Conv2d(4, 4, 3, 3, padH: 1, padW: 1, groups: 4), new HardSwish(), new AvgPool2d(2), new LeakyRelu(0.2f),
                new GlobalAvgPool(), new Flatten(), new Dense(4, 3), new Sigmoid(),
            ]);
            network.Initialize(1);
            var g = network.ToOnnxGraph(appendSoftmax: true);
            Expect.Equal("Conv,BatchNormalization,Clip,MaxPool,Conv,HardSwish,AveragePool,LeakyRelu,GlobalAveragePool,Flatten,Gemm,Sigmoid,Softmax",
                string.Join(',', g.Nodes.Select(n => n.OpType)), "node sequence");
            Expect.Equal("output", g.Nodes[^1].Outputs[0], "last node writes the graph output");
            for (int i = 1; i < g.Nodes.Count; i++)
                Expect.Equal(g.Nodes[i - 1].Outputs[0], g.Nodes[i].Inputs[0], $"node {i} consumes node {i - 1}");
            var dw = g.Nodes[4];
            Expect.Equal(4L, dw.Attributes.Single(a => a.Name == "group").Int, "depthwise group attribute");
            var dwWeight = g.Initializers.Single(t => t.Name == dw.Inputs[1]);
            Expect.True(dwWeight.Shape.SequenceEqual([4, 1, 3, 3]), "depthwise weight is [M, C/g, kh, kw]");
            var gemm = g.Nodes[10];
            Expect.Equal(1L, gemm.Attributes.Single(a => a.Name == "transB").Int, "Gemm uses transB = 1");
            var w = g.Initializers.Single(t => t.Name == gemm.Inputs[1]);
            Expect.True(w.Shape.SequenceEqual([3, 4]) && w.Data.SequenceEqual(((Dense)network.Layers[10]).Weight.Value), "Gemm weight copied as [out, in]");
            Expect.True(g.Initializers.Any(t => t.Name == g.Nodes[2].Inputs[2] && t.Data[0] == 6f), "Clip max is an input initializer");
        }));

        checks.Add(new("training", "export.onnx-graph-round-trips-to-a-trainable-network", () =>
        {
            var network = new Network([2, 8, 8],
            [
                new Conv2d(2, 4, 3, 3, strideH: 2, strideW: 2, padH: 1, padW: 1), new BatchNorm(4), Clip.Relu6(),
                new Conv2d(4, 4, 3, 3, padH: 1, padW: 1, groups: 4), new HardSwish(), new MaxPool2d(2), new LeakyRelu(0.2f),
                new Flatten(), new Dense(16, 5), new Sigmoid(), new Dense(5, 3),
            ]);
            network.Initialize(2);
            var x = GradientCheck.Uniform(3 * 128, new Random(6));
            var imported = OnnxGraphImport.ToNetwork(network.ToOnnxGraph(appendSoftmax: true), out bool softmax);
            Expect.True(softmax, "the trailing Softmax is reported");
            Close(network.Predict(x, 3), imported.Predict(x, 3), "imported network computes the same", 1e-6f);
            var sensor = new Network([3, 16], [new Conv1d(3, 4, 5, stride: 2, pad: 2), new Relu(), new GlobalAvgPool(), new Flatten(), new Dense(4, 2)]);
            sensor.Initialize(3);
            var xs = GradientCheck.Uniform(2 * 48, new Random(7));
            Close(sensor.Predict(xs, 2), OnnxGraphImport.ToNetwork(sensor.ToOnnxGraph(), out _).Predict(xs, 2), "Conv1d round trip", 1e-6f);
            var g = network.ToOnnxGraph();
            var bad = g with { Nodes = [.. g.Nodes.Take(3), g.Nodes[3] with { OpType = "Erf" }, .. g.Nodes.Skip(4)] };
            var e = Expect.Throws<NotSupportedException>(() => OnnxGraphImport.ToNetwork(bad, out _), "unsupported op");
            Expect.True(e.Message.Contains("Erf") && e.Message.Contains(g.Nodes[3].Name), e.Message);
        }));

        checks.Add(new("training", "batchnorm.running-statistics", () =>
        {
            var bn = new BatchNorm(1, momentum: 0.5f);
            var net = new Network([1], [bn]) { Training = true };
            net.Forward(new TrainingTensor([1f, 3f, 5f, 7f], [4, 1]));
            // batch mean 4, unbiased variance 20/3; running = ½·initial + ½·batch.
            Expect.True(MathF.Abs(bn.RunningMean[0] - 2f) < 1e-5f && MathF.Abs(bn.RunningVar[0] - (0.5f + 10f / 3f)) < 1e-4f,
                $"running mean {bn.RunningMean[0]}, var {bn.RunningVar[0]}");
            net.Training = false;
            var y = net.Forward(new TrainingTensor([2f], [1, 1]));
            Expect.True(MathF.Abs(y.Data[0] - 0f) < 1e-5f, $"eval mode uses the running mean: got {y.Data[0]}");
        }));
    }

    internal static float Accuracy(Network network, float[] x, int[] y)
    {
        var logits = network.Predict(x, y.Length);
        int c = network.OutputSize, correct = 0;
        for (int s = 0; s < y.Length; s++)
        {
            var row = logits.AsSpan(s * c, c);
            int best = 0;
            for (int j = 1; j < c; j++) if (row[j] > row[best]) best = j;
            if (best == y[s]) correct++;
        }
        return (float)correct / y.Length;
    }

    private static float[] Transposed(float[] a, int rows, int cols)
    {
        var t = new float[a.Length];
        for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
        return t;
    }

    internal static void Close(float[] expect, float[] actual, string what, float tolerance = 1e-4f)
    {
        Expect.Equal(expect.Length, actual.Length, what + " length");
        for (int i = 0; i < expect.Length; i++)
            if (MathF.Abs(expect[i] - actual[i]) > tolerance * (1 + MathF.Abs(expect[i])))
                throw new CheckFailedException($"{what}: [{i}] expected {expect[i]}, got {actual[i]}");
    }
}
