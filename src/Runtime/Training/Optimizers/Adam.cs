namespace EdgeAgent.Runtime.Training;

/// <summary>Adam (Kingma and Ba) with bias correction; weight decay is added to the gradient.</summary>
public sealed class Adam : Optimizer
{
    public Adam(float learningRate = 1e-3f, float beta1 = 0.9f, float beta2 = 0.999f, float epsilon = 1e-8f, float weightDecay = 0f)
    {
        if (learningRate <= 0) throw new ArgumentOutOfRangeException(nameof(learningRate));
        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), "betas must be in [0, 1)");
        LearningRate = learningRate; Beta1 = beta1; Beta2 = beta2; Epsilon = epsilon; WeightDecay = weightDecay;
    }

    public float Beta1 { get; }
    public float Beta2 { get; }
    public float Epsilon { get; }

    // m, v and this parameter's own step count (a parameter that grew restarts its correction).
    protected override float[][] CreateState(int length) => [new float[length], new float[length], new float[1]];

    protected override void Update(Span<float> value, ReadOnlySpan<float> gradient, float[][] state)
    {
        float[] m = state[0], v = state[1];
        float t = ++state[2][0];
        float c1 = 1f - MathF.Pow(Beta1, t), c2 = 1f - MathF.Pow(Beta2, t);
        float step = LearningRate / c1, b1 = Beta1, b2 = Beta2, wd = WeightDecay, eps = Epsilon;
        for (int i = 0; i < value.Length; i++)
        {
            float g = gradient[i] + wd * value[i];
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            value[i] -= step * m[i] / (MathF.Sqrt(v[i] / c2) + eps);
        }
    }
}
