namespace EdgeAgent.Runtime.Training;

/// <summary>Updates parameters from their accumulated gradients; frozen parameters are skipped.</summary>
public abstract class Optimizer
{
    private readonly Dictionary<Parameter, float[][]> _state = new(ReferenceEqualityComparer.Instance);

    public float LearningRate { get; set; }

    /// <summary>Decoupled from the loss: added to each gradient as weightDecay·value.</summary>
    public float WeightDecay { get; set; }

    /// <summary>Applies one step to every non-frozen parameter, then clears their gradients.</summary>
    public void Step(IEnumerable<Parameter> parameters)
    {
        StepCount++;
        foreach (var p in parameters)
        {
            if (p.Frozen) { p.ZeroGrad(); continue; }
            if (!_state.TryGetValue(p, out var state) || state.Length > 0 && state[0].Length != p.Length)
            {
                state = CreateState(p.Length);
                _state[p] = state;
            }
            Update(p.Value, p.Grad, state);
            p.ZeroGrad();
        }
    }

    public int StepCount { get; private set; }

    /// <summary>Per-parameter buffers (momentum, moments), created on first use.</summary>
    protected abstract float[][] CreateState(int length);

    protected abstract void Update(Span<float> value, ReadOnlySpan<float> gradient, float[][] state);
}
