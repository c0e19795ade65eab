namespace EdgeAgent.Kernels;

/// <summary>
/// The vector code a non-GEMM kernel family runs for a table's <see cref="Isa"/>. Most families gain
/// nothing from dot-product or VNNI instructions, so <c>neon-dot</c> shares the NEON kernels and
/// <c>avx-vnni</c> the AVX2 ones; <c>avx512</c> has its own kernels where 512-bit vectors pay off, and
/// <c>avx512-vnni</c> shares them (only its QGEMM differs).
/// The int8 depthwise convolution is the exception: its x86 kernel also looks at <see cref="Isa.AvxVnni"/>.
/// </summary>
internal enum SimdPath
{
    Scalar,
    Neon,
    Avx2,
    Avx512,
}

internal static class SimdPaths
{
    public static SimdPath For(Isa isa) => isa switch
    {
        Isa.Scalar => SimdPath.Scalar,
        Isa.Neon or Isa.NeonDot => SimdPath.Neon,
        Isa.Avx2 or Isa.AvxVnni => SimdPath.Avx2,
        Isa.Avx512 or Isa.Avx512Vnni => SimdPath.Avx512,
        _ => throw new ArgumentOutOfRangeException(nameof(isa), isa, "unknown kernel path"),
    };
}
