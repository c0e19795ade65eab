using EdgeAgent.Kernels;

namespace EdgeAgent.Runtime.Execution;

/// <summary>
/// What compiled kernels run on: the process's kernel table (one instruction-set path, overridable with
/// <c>EDGEAGENT_ISA</c>) and the session's worker pool (null when the session runs on the calling thread only).
/// Weights are packed for <see cref="Table"/> at load.
/// </summary>
public sealed class KernelResources(KernelTable table, WorkerPool? pool)
{
    /// <summary>Single-threaded resources on the process's kernel table (constant folding, tests).</summary>
    public static KernelResources Default { get; } = new(KernelTable.Current, null);

    public KernelTable Table { get; } = table;

    public WorkerPool? Pool { get; } = pool;

    /// <summary>Threads a kernel may split its work over (the caller included).</summary>
    public int Threads => Pool?.ThreadCount ?? 1;
}
