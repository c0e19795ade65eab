namespace EdgeAgent.Runtime.Ops;

/// <summary>
/// Identity, Reshape, Flatten, Squeeze, Unsqueeze: the output holds the input's bytes unchanged. The planner
/// places such an output on the same arena bytes as its input, so the node does no work and is left out of
/// the executed steps; <see cref="Run"/> copies only where that is not possible (constant folding, inputs
/// outside the arena).
/// </summary>
public sealed class AliasKernel : OpKernel
{
    public override string Path => "copy";

    public override void Run(Tensor?[] inputs, Tensor[] outputs)
    {
        var source = inputs[0]!.Bytes;
        var destination = outputs[0].Bytes;
        if (source != destination) source.CopyTo(destination);
    }
}
