using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Checks.Training;

/// <summary>
/// Compares a network's analytic gradients with central finite differences of the scalar
/// L = Σ y·R for a fixed random R (so ∂L/∂y = R). Samples a few coordinates of every parameter and
/// of the input so the check stays fast under qemu.
/// </summary>
internal static class GradientCheck
{
    public const float Epsilon = 1e-2f;

    public static void Run(string what, Network network, float[] input, int batch, int seed, int coordinatesPerTensor = 12)
    {
        var random = new Random(seed);
        network.Training = true;
        var x = new TrainingTensor(input, [batch, .. network.InputShape]);
        var y = network.Forward(x);
        var r = new float[y.Length];
        for (int i = 0; i < r.Length; i++) r[i] = (float)(random.NextDouble() * 2 - 1);
        network.ZeroGrad();
        var dx = network.Backward(new TrainingTensor((float[])r.Clone(), y.Shape), needInputGradient: true)!;
        float[] inputGradient = dx.Span.ToArray();

        double Loss()
        {
            var yy = network.Forward(new TrainingTensor(input, [batch, .. network.InputShape]));
            double s = 0;
            for (int i = 0; i < r.Length; i++) s += (double)yy.Data[i] * r[i];
            return s;
        }

        foreach (var (name, p) in network.NamedParameters)
            Compare($"{what}: d/d{name}", p.Value, p.Grad.ToArray(), Loss, random, coordinatesPerTensor);
        Compare($"{what}: d/dinput", input, inputGradient, Loss, random, coordinatesPerTensor);
    }

    private static void Compare(string what, float[] values, float[] analytic, Func<double> loss, Random random, int count)
    {
        int n = values.Length;
        var picks = n <= count ? Enumerable.Range(0, n) : Enumerable.Range(0, count).Select(_ => random.Next(n)).Distinct();
        foreach (int i in picks)
        {
            float keep = values[i];
            values[i] = keep + Epsilon;
            double up = loss();
            values[i] = keep - Epsilon;
            double down = loss();
            values[i] = keep;
            double numeric = (up - down) / (2 * Epsilon);
            double a = analytic[i];
            double tolerance = 5e-3 + 2e-2 * Math.Max(Math.Abs(numeric), Math.Abs(a));
            if (Math.Abs(numeric - a) > tolerance)
                throw new CheckFailedException($"{what}[{i}]: analytic {a:G6}, finite difference {numeric:G6}");
        }
    }

    /// <summary>Uniform values in [−scale, scale] that keep at least <paramref name="margin"/> from every kink.</summary>
    public static float[] AwayFromKinks(int count, Random random, float scale, float margin, params float[] kinks)
    {
        var data = new float[count];
        for (int i = 0; i < count; i++)
        {
            float v;
            do v = (float)(random.NextDouble() * 2 - 1) * scale;
            while (kinks.Any(k => MathF.Abs(v - k) < margin));
            data[i] = v;
        }
        return data;
    }

    /// <summary>Distinct values at least 0.05 apart in random order, so max pooling has no ties within ±ε.</summary>
    public static float[] Distinct(int count, Random random)
    {
        var data = Enumerable.Range(0, count).Select(i => (i - count / 2) * 0.05f).ToArray();
        random.Shuffle(data);
        return data;
    }

    public static float[] Uniform(int count, Random random, float scale = 1f)
    {
        var data = new float[count];
        for (int i = 0; i < count; i++) data[i] = (float)(random.NextDouble() * 2 - 1) * scale;
        return data;
    }

    /// <summary>Moves biases and BN scales away from their initial 0/1 so their gradients are generic.</summary>
    public static void Perturb(Network network, Random random)
    {
        foreach (var (name, p) in network.NamedParameters)
            if (name.EndsWith(".bias") || name.EndsWith(".scale"))
                for (int i = 0; i < p.Length; i++) p.Value[i] += (float)(random.NextDouble() - 0.5);
    }
}
