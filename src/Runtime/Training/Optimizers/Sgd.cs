namespace EdgeAgent.Runtime.Training;

/// <summary>Stochastic gradient descent with (heavy-ball) momentum: v = μ·v + g; θ −= lr·v.</summary>
public sealed class Sgd : Optimizer
{
    public Sgd(float learningRate, float momentum = 0.9f, float weightDecay = 0f)
    {
        if (learningRate <= 0) throw new ArgumentOutOfRangeException(nameof(learningRate));
        if (momentum is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(momentum), "momentum must be in [0, 1)");
        LearningRate = learningRate; Momentum = momentum; WeightDecay = weightDecay;
    }

    public float Momentum { get; }

    protected override float[][] CreateState(int length) => Momentum == 0 ? [] : [new float[length]];

    protected override void Update(Span<float> value, ReadOnlySpan<float> gradient, float[][] state)
    {
        float lr = LearningRate, wd = WeightDecay, mu = Momentum;
        if (state.Length == 0)
        {
            for (int i = 0; i < value.Length; i++) value[i] -= lr * (gradient[i] + wd * value[i]);
            return;
        }
        var v = state[0];
        for (int i = 0; i < value.Length; i++)
        {
            v[i] = mu * v[i] + gradient[i] + wd * value[i];
            value[i] -= lr * v[i];
        }
    }
}
