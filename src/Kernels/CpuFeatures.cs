using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// What the CPU we run on can do, read once from the runtime's intrinsic support flags.
/// Under NativeAOT on linux-arm64 the <c>Dp</c> check is made at run time, so one binary
/// serves a Pi 4 (no dot product) and a Pi 5 (dot product).
/// </summary>
public sealed record CpuFeatures(
    Architecture Architecture,
    bool AdvSimd,
    bool Dp,
    bool Avx2,
    bool Fma,
    bool Avx512BW,
    bool AvxVnni,
    bool Avx512Vnni = false)
{
    /// <summary>
    /// Set when the CPU has AVX-512 VNNI but its path cannot run: the generated kernels need executable memory, which
    /// the system refused (SELinux <c>execmem</c>, PaX MPROTECT); says why.
    /// </summary>
    public string? Avx512VnniUnavailable { get; init; }

    public static CpuFeatures Host { get; } = Detect();

    private static CpuFeatures Detect() => new(
        RuntimeInformation.ProcessArchitecture,
        AdvSimd: System.Runtime.Intrinsics.Arm.AdvSimd.Arm64.IsSupported,
        Dp: System.Runtime.Intrinsics.Arm.Dp.IsSupported,
        Avx2: System.Runtime.Intrinsics.X86.Avx2.IsSupported,
        Fma: System.Runtime.Intrinsics.X86.Fma.IsSupported,
        Avx512BW: System.Runtime.Intrinsics.X86.Avx512BW.IsSupported,
        AvxVnni: System.Runtime.Intrinsics.X86.AvxVnni.IsSupported,
        Avx512Vnni: System.Runtime.Intrinsics.X86.X86Base.IsSupported && QGemm6x64Avx512Vnni.IsSupported)
    {
        Avx512VnniUnavailable = System.Runtime.Intrinsics.X86.X86Base.IsSupported ? QGemm6x64Avx512Vnni.UnavailableReason : null,
    };

    /// <summary>True when this CPU can execute the kernels of <paramref name="isa"/>.</summary>
    public bool Supports(Isa isa) => isa switch
    {
        Isa.Scalar => true,
        Isa.Neon => AdvSimd,
        Isa.NeonDot => AdvSimd && Dp,
        Isa.Avx2 => Avx2 && Fma,
        Isa.Avx512 => Avx2 && Fma && Avx512BW,
        Isa.AvxVnni => Avx2 && Fma && AvxVnni,
        Isa.Avx512Vnni => Avx2 && Fma && Avx512BW && Avx512Vnni,
        _ => false,
    };

    /// <summary>Every path this CPU can run, scalar first.</summary>
    public IReadOnlyList<Isa> SupportedIsas => IsaNames.All.Where(Supports).ToArray();

    /// <summary>
    /// The path chosen when nothing is forced. VNNI beats AVX-512BW for int8 on the CPUs that
    /// have both here (one VPDPBUSD replaces three AVX-512BW instructions), and the generated 512-bit
    /// VNNI kernel comes before the 256-bit AVX-VNNI one where a CPU has both (Zen 5, Sapphire Rapids
    /// and later): the same instruction does twice the MACs on cores with 512-bit datapaths. AVX-VNNI
    /// serves CPUs without AVX-512 (Alder Lake and other client cores); dot product beats baseline NEON.
    /// </summary>
    public Isa Best
    {
        get
        {
            if (Supports(Isa.NeonDot)) return Isa.NeonDot;
            if (Supports(Isa.Neon)) return Isa.Neon;
            if (Supports(Isa.Avx512Vnni)) return Isa.Avx512Vnni;
            if (Supports(Isa.AvxVnni)) return Isa.AvxVnni;
            if (Supports(Isa.Avx512)) return Isa.Avx512;
            if (Supports(Isa.Avx2)) return Isa.Avx2;
            return Isa.Scalar;
        }
    }

    /// <summary>One line for logs, <c>edgeagent doctor</c> and the test harness.</summary>
    public string Describe()
    {
        var flags = new List<string>();
        if (AdvSimd) flags.Add("asimd");
        if (Dp) flags.Add("dotprod");
        if (Avx2) flags.Add("avx2");
        if (Fma) flags.Add("fma");
        if (Avx512BW) flags.Add("avx512bw");
        if (AvxVnni) flags.Add("avx-vnni");
        if (Avx512Vnni) flags.Add("avx512-vnni");
        else if (Avx512VnniUnavailable is not null) flags.Add($"avx512-vnni unusable: {Avx512VnniUnavailable}");
        return $"{Architecture.ToString().ToLowerInvariant()} [{string.Join(' ', flags)}]";
    }
}
