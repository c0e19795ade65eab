namespace EdgeAgent.Kernels;

/// <summary>An instruction-set path that a kernel table can be built for.</summary>
public enum Isa
{
    /// <summary>Portable C#; the readable specification every other path is tested against.</summary>
    Scalar,
    /// <summary>ARMv8.0 AdvSimd (Raspberry Pi 3/4, Jetson Nano): SMULL/SMLAL/SADALP.</summary>
    Neon,
    /// <summary>ARMv8.2 dot product (Raspberry Pi 5, Jetson Orin/Xavier): SDOT/UDOT.</summary>
    NeonDot,
    /// <summary>x86-64 AVX2 + FMA: VPMADDUBSW/VPMADDWD.</summary>
    Avx2,
    /// <summary>x86-64 AVX-512BW (512-bit integer multiply-add without VNNI).</summary>
    Avx512,
    /// <summary>x86-64 AVX-VNNI (256-bit VPDPBUSD).</summary>
    AvxVnni,
    /// <summary>x86-64 AVX-512 VNNI (512-bit VPDPBUSD, generated machine code) with the AVX-512BW kernels elsewhere.</summary>
    Avx512Vnni,
}

public static class IsaNames
{
    /// <summary>The spelling used by <c>EDGEAGENT_ISA</c>, logs and reports.</summary>
    public static string ToName(this Isa isa) => isa switch
    {
        Isa.Scalar => "scalar",
        Isa.Neon => "neon",
        Isa.NeonDot => "neon-dot",
        Isa.Avx2 => "avx2",
        Isa.Avx512 => "avx512",
        Isa.AvxVnni => "avx-vnni",
        Isa.Avx512Vnni => "avx512-vnni",
        _ => throw new ArgumentOutOfRangeException(nameof(isa)),
    };

    public static IReadOnlyList<Isa> All { get; } = Enum.GetValues<Isa>();

    public static bool TryParse(string? text, out Isa isa)
    {
        foreach (var candidate in All)
        {
            if (string.Equals(candidate.ToName(), text?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                isa = candidate;
                return true;
            }
        }
        isa = Isa.Scalar;
        return false;
    }
}
