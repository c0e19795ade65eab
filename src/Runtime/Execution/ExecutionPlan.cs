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
    /// <summary>Nodes whose output shares its input's arena bytes (Reshape, Flatten, Identity, ...): never run.</summary>
    internal PlanStep[] AliasSteps { get; init; } = [];
    /// <summary>Per graph input, the (step, input slot) pairs that read it; empty when Run must copy it into the arena.</summary>
    internal (int Step, int Slot)[][] InputSlots { get; init; } = [];
    /// <summary>Views where callers' inputs are copied, in graph input order.</summary>
    internal Tensor[] InputViews { get; init; } = [];
    internal Tensor[] OutputViews { get; init; } = [];
    internal int[][] InputShapes { get; init; } = [];
    public long ArenaBytes { get; init; }
    public int FoldedNodes { get; init; }

    public IReadOnlyList<PlanStep> StepList => Steps;

    /// <summary>The nodes that cost nothing at run time because their output aliases their input.</summary>
    public IReadOnlyList<PlanStep> AliasStepList => AliasSteps;

    /// <summary>
    /// Makes the steps read the caller's input tensors (already checked for type and shape) where they can, and
    /// copies the others into the arena: a large image input is then not copied on every Run.
    /// </summary>
    internal void BindInputs(Tensor[] inputs)
    {
        for (int k = 0; k < inputs.Length; k++)
        {
            var slots = InputSlots.Length > k ? InputSlots[k] : [];
            if (slots.Length == 0)
            {
                inputs[k].Bytes.CopyTo(InputViews[k].Bytes);
                continue;
            }
            foreach (var (step, slot) in slots) Steps[step].Inputs[slot] = inputs[k];
        }
    }

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
