using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Checks.Training;

/// <summary>Every differentiable layer of the training engine against finite differences.</summary>
public static class TrainingGradientChecks
{
    public static void Register(List<Check> checks)
    {
        void Layer(string name, Func<Layer> make, int[] inputShape, Func<int, Random, float[]>? data = null, int batch = 3) =>
            checks.Add(new("training", "grad." + name, () =>
            {
                var random = new Random(name.Length * 7919 + 17);
                var network = new Network(inputShape, [make()]);
                network.Initialize(random.Next());
                GradientCheck.Perturb(network, random);
                int count = batch * TrainingTensor.ShapeSize(inputShape);
                var input = data is null ? GradientCheck.Uniform(count, random) : data(count, random);
                GradientCheck.Run(name, network, input, batch, random.Next());
            }));

        Layer("dense", () => new Dense(7, 5), [7]);
        Layer("conv2d.3x3-pad1", () => new Conv2d(2, 3, 3, 3, padH: 1, padW: 1), [2, 5, 6]);
        Layer("conv2d.stride2-dilation2", () => new Conv2d(3, 4, 3, 2, strideH: 2, strideW: 2, padH: 1, padW: 0, dilationH: 2, dilationW: 1), [3, 9, 8]);
        Layer("conv2d.groups2", () => new Conv2d(4, 6, 3, 3, padH: 1, padW: 1, groups: 2), [4, 5, 5]);
        Layer("conv2d.depthwise-multiplier2", () => new Conv2d(3, 6, 3, 3, strideH: 2, strideW: 2, padH: 1, padW: 1, groups: 3), [3, 7, 7]);
        Layer("conv2d.pointwise-nobias", () => new Conv2d(5, 4, 1, 1, bias: false), [5, 3, 4]);
        Layer("conv1d.stride2-pad2", () => new Conv1d(3, 4, 5, stride: 2, pad: 2), [3, 17]);
        Layer("conv1d.depthwise", () => new Conv1d(4, 4, 3, pad: 1, groups: 4), [4, 9]);
        Layer("maxpool.2x2", () => new MaxPool2d(2), [2, 6, 6], GradientCheck.Distinct);
        Layer("maxpool.3x3-stride2-pad1", () => new MaxPool2d(3, 2, 1), [2, 7, 7], GradientCheck.Distinct);
        Layer("avgpool.2x2", () => new AvgPool2d(2), [2, 6, 5]);
        Layer("avgpool.3x3-stride1-pad1", () => new AvgPool2d(3, 1, 1), [2, 5, 5]);
        Layer("globalavgpool", () => new GlobalAvgPool(), [3, 4, 5]);
        Layer("relu", () => new Relu(), [11], (n, r) => GradientCheck.AwayFromKinks(n, r, 3f, 0.05f, 0f));
        Layer("clip-relu6", () => Clip.Relu6(), [13], (n, r) => GradientCheck.AwayFromKinks(n, r, 8f, 0.05f, 0f, 6f));
        Layer("leakyrelu", () => new LeakyRelu(0.1f), [11], (n, r) => GradientCheck.AwayFromKinks(n, r, 3f, 0.05f, 0f));
        Layer("hardswish", () => new HardSwish(), [17], (n, r) => GradientCheck.AwayFromKinks(n, r, 5f, 0.05f, -3f, 3f));
        Layer("sigmoid", () => new Sigmoid(), [9], (n, r) => GradientCheck.Uniform(n, r, 4f));
        Layer("batchnorm.conv", () => new BatchNorm(3), [3, 4, 4], batch: 4);
        Layer("batchnorm.dense", () => new BatchNorm(5), [5], batch: 6);

        checks.Add(new("training", "grad.cnn-chain", () =>
        {
            // Smooth activations only, so finite differences never straddle a kink deep in the chain.
            var random = new Random(42);
            var network = new Network([1, 8, 8],
            [
                new Conv2d(1, 4, 3, 3, padH: 1, padW: 1), new BatchNorm(4), new Sigmoid(), new AvgPool2d(2),
                new Conv2d(4, 4, 3, 3, padH: 1, padW: 1, groups: 4), new HardSwish(), new GlobalAvgPool(), new Flatten(),
                new Dense(4, 3),
            ]);
            network.Initialize(7);
            GradientCheck.Perturb(network, random);
            GradientCheck.Run("cnn-chain", network, GradientCheck.Uniform(2 * 64, random), 2, 9);
        }));

        checks.Add(new("training", "grad.softmax-cross-entropy", () =>
        {
            var random = new Random(3);
            int n = 4, c = 6;
            var logits = new TrainingTensor(GradientCheck.Uniform(n * c, random, 3f), [n, c]);
            int[] labels = [0, 5, 2, 2];
            var grad = new TrainingTensor([n, c]);
            SoftmaxCrossEntropy.Loss(logits, labels, grad);
            CheckScalarGradient("cross-entropy", logits, grad, () => SoftmaxCrossEntropy.Loss(logits, labels));
            for (int i = 0; i < n; i++)
                Expect.True(MathF.Abs(grad.Sample(i).ToArray().Sum()) < 1e-6f, "softmax − one-hot sums to zero per sample");
        }));

        checks.Add(new("training", "grad.distillation-grown-head", () =>
        {
            var random = new Random(4);
            int n = 3, c = 5, k = 3;
            float t = 2.5f;
            var student = new TrainingTensor(GradientCheck.Uniform(n * c, random, 3f), [n, c]);
            var teacher = GradientCheck.Uniform(n * k, random, 3f);
            var grad = new TrainingTensor([n, c]);
            Distillation.Loss(student, teacher, k, t, grad);
            CheckScalarGradient("distillation", student, grad, () => Distillation.Loss(student, teacher, k, t));
            for (int i = 0; i < n; i++)
                for (int j = k; j < c; j++) Expect.Equal(0f, grad.Sample(i)[j], "outputs the teacher lacks get no distillation gradient");
            var same = new TrainingTensor(new float[n * c], [n, c]);
            for (int i = 0; i < n; i++) teacher.AsSpan(i * k, k).CopyTo(same.Sample(i));
            Expect.True(Distillation.Loss(same, teacher, k, t) < 1e-6f, "KL of identical distributions is zero");
        }));
    }

    private static void CheckScalarGradient(string what, TrainingTensor x, TrainingTensor grad, Func<float> loss)
    {
        const float eps = 1e-2f;
        for (int i = 0; i < x.Length; i++)
        {
            float keep = x.Data[i];
            x.Data[i] = keep + eps;
            double up = loss();
            x.Data[i] = keep - eps;
            double down = loss();
            x.Data[i] = keep;
            double numeric = (up - down) / (2 * eps);
            if (Math.Abs(numeric - grad.Data[i]) > 2e-3 + 2e-2 * Math.Abs(numeric))
                throw new CheckFailedException($"{what}: ∂/∂z[{i}] analytic {grad.Data[i]:G6}, finite difference {numeric:G6}");
        }
    }
}
