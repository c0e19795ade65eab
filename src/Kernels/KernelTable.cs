namespace EdgeAgent.Kernels;

/// <summary>
/// The dispatch table: one set of microkernels for one instruction-set path, filled once.
/// Callers hold a table and call through it; kernels know nothing of threads or graphs.
/// </summary>
public sealed partial class KernelTable
{
    private static readonly Lazy<KernelTable> s_current = new(() => For(IsaSelection.FromEnvironment()));

    /// <summary>The table for this process: the CPU's best path, or the one <c>EDGEAGENT_ISA</c> forces.</summary>
    public static KernelTable Current => s_current.Value;

    public Isa Isa { get; }

    /// <summary>The path's name as <c>EDGEAGENT_ISA</c> spells it.</summary>
    public string Name => Isa.ToName();

    private KernelTable(Isa isa)
    {
        Isa = isa;
        FillQGemm();
        FillConv();
        FillDepthwise();
        FillElementwise();
        FillFloat();
    }

    /// <summary>Builds the table for <paramref name="isa"/>; the CPU must support it.</summary>
    public static KernelTable For(Isa isa)
    {
        if (!CpuFeatures.Host.Supports(isa))
            throw new IsaNotSupportedException($"kernel path '{isa.ToName()}' cannot run on this CPU ({CpuFeatures.Host.Describe()}).");
        return new KernelTable(isa);
    }

    /// <summary>Tables for every path this CPU can run, scalar first (what the tests iterate).</summary>
    public static IReadOnlyList<KernelTable> AllSupported() =>
        CpuFeatures.Host.SupportedIsas.Select(For).ToArray();

    // Each kernel family fills its entries for Isa in its own partial file (KernelTable.<Family>.cs).
    partial void FillQGemm();
    partial void FillConv();
    partial void FillDepthwise();
    partial void FillElementwise();
    partial void FillFloat();

    public override string ToString() => Name;
}
