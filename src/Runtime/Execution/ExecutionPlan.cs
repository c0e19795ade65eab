using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Ops;

namespace EdgeAgent.Runtime.Execution;

/// <summary>One compiled node with its bound input and output tensors.</summary>
public sealed class PlanStep(Node node, OpKernel kernel, Tensor?[] inputs, Tensor[] outputs)
{
    public Node Node { get; } = node;
    public OpKernel Kernel { get; } = kernel;
    internal Tensor?[] Inputs { get; } = inputs;
    internal Tensor[] Outputs { get; } = outputs;
}

/// <summary>
/// A graph compiled for fixed input shapes: the nodes that remain after constant folding, every
/// intermediate value placed at an offset of one arena, and the views that Run reads and writes.
/// </summary>
public sealed class ExecutionPlan
{
    internal PlanStep[] Steps { get; init; } = [];
    /// <summary>Views where callers' inputs are copied, in graph input order.</summary>
    internal Tensor[] InputViews { get; init; } = [];
    internal Tensor[] OutputViews { get; init; } = [];
    internal int[][] InputShapes { get; init; } = [];
    public long ArenaBytes { get; init; }
    public int FoldedNodes { get; init; }

    public IReadOnlyList<PlanStep> StepList => Steps;

    public void Execute()
    {
        var steps = Steps;
        int s = 0;
        try
        {
            for (; s < steps.Length; s++) steps[s].Kernel.Run(steps[s].Inputs, steps[s].Outputs);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InferenceException($"node '{steps[s].Node.DisplayName}' ({steps[s].Node.OpType}) failed: {e.Message}", e);
        }
    }

    /// <summary>
    /// Runs the plan once with the current inputs, adding each step's time in milliseconds, as read from
    /// <paramref name="clock"/> (wall or thread CPU time), to <paramref name="milliseconds"/> (one entry per step
    /// in <see cref="StepList"/> order): per-node profiling.
    /// </summary>
    public void ExecuteTimed(Span<double> milliseconds, Func<double> clock)
    {
        ArgumentNullException.ThrowIfNull(clock);
        if (milliseconds.Length < Steps.Length) throw new ArgumentException($"{milliseconds.Length} counters for {Steps.Length} steps", nameof(milliseconds));
        var steps = Steps;
        for (int s = 0; s < steps.Length; s++)
        {
            double t0 = clock();
            steps[s].Kernel.Run(steps[s].Inputs, steps[s].Outputs);
            milliseconds[s] += clock() - t0;
        }
    }
}
