using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>
/// A node compiled for fixed input shapes: weights prepacked, strides and loop bounds precomputed.
/// <see cref="Run"/> reads inputs and writes outputs whose buffers the executor planned; it must not
/// allocate (that is what makes Session.Run allocation-free).
/// </summary>
public abstract class OpKernel
{
    /// <summary>Which implementation runs the node (shown in the session's per-node report).</summary>
    public virtual string Path => "reference";

    /// <summary>Inputs in node order (null for omitted optional inputs); outputs preallocated.</summary>
    public abstract void Run(Tensor?[] inputs, Tensor[] outputs);
}

/// <summary>A kernel given as a delegate that captures everything it precomputed.</summary>
public sealed class DelegateKernel(Action<Tensor?[], Tensor[]> run, string path = "reference") : OpKernel
{
    public override string Path => path;

    public override void Run(Tensor?[] inputs, Tensor[] outputs) => run(inputs, outputs);
}

/// <summary>Compiles one node for the shapes (and any constant values) in <paramref name="ctx"/>.</summary>
public delegate OpKernel OpCompiler(CompileContext ctx);

/// <summary>
/// Thrown while planning when an output shape depends on the value of an input that is not known
/// before Run (e.g. Reshape fed a computed shape): the session then plans per Run with real values.
/// </summary>
public sealed class ShapeDependsOnValuesException(string message) : Exception(message);
