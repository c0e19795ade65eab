namespace EdgeAgent.Kernels;

public sealed unsafe partial class KernelTable
{
    internal QGemmKernel QGemm { get; private set; } = null!;

    /// <summary>The QGEMM microkernel of this path, named by tile and ISA (e.g. <c>QGemm6x16AvxVnni</c>).</summary>
    public string QGemmKernelName => QGemm.Name;

    /// <summary>Rows x columns of this path's QGEMM register tile (what a caller partitioning work aligns to).</summary>
    public (int Rows, int Columns) QGemmTile => (QGemm.Mr, QGemm.Nr);

    partial void FillQGemm()
    {
        QGemm = Isa switch
        {
            Isa.AvxVnni when System.Runtime.Intrinsics.X86.X86Base.IsSupported => new QGemmKernel
            {
                Name = "QGemm6x16AvxVnni", Mr = 6, Nr = 16, Kr = 4, KBlock = 4, WeightBytes = 1,
                SignedOffset = 128, UnsignedOffset = 0, Block = &QGemmDriver.FusedBlockWithRowKernel<QGemm6x16AvxVnni, QGemm1x64AvxVnni>,
                HasIndirectConv = true,
            },
            Isa.Avx512Vnni when System.Runtime.Intrinsics.X86.X86Base.IsSupported => new QGemmKernel
            {
                Name = "QGemm6x64Avx512Vnni", Mr = 6, Nr = 64, Kr = 4, KBlock = 4, WeightBytes = 1,
                SignedOffset = 128, UnsignedOffset = 0, Block = &QGemm6x64Avx512Vnni.Block,
            },
            Isa.Avx512 when System.Runtime.Intrinsics.X86.X86Base.IsSupported => new QGemmKernel
            {
                Name = "QGemm6x32Avx512", Mr = 6, Nr = 32, Kr = 2, KBlock = 2, WeightBytes = 2,
                SignedOffset = 0, UnsignedOffset = 0, Block = &QGemm6x32Avx512.Block,
            },
            Isa.Avx2 when System.Runtime.Intrinsics.X86.X86Base.IsSupported => new QGemmKernel
            {
                Name = "QGemm4x16Avx2", Mr = 4, Nr = 16, Kr = 2, KBlock = 2, WeightBytes = 2,
                SignedOffset = 0, UnsignedOffset = 0, Block = &QGemmDriver.Block<QGemm4x16Avx2>,
            },
            Isa.NeonDot when System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported => new QGemmKernel
            {
                Name = "QGemm4x16NeonDot", Mr = 4, Nr = 16, Kr = 4, KBlock = 16, WeightBytes = 1,
                SignedOffset = 0, UnsignedOffset = -128, Block = &QGemmDriver.Block<QGemm4x16NeonDot>,
            },
            Isa.Neon when System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported => new QGemmKernel
            {
                Name = "QGemm4x4c16Neon", Mr = 4, Nr = 4, Kr = 16, KBlock = 16, WeightBytes = 1,
                SignedOffset = 0, UnsignedOffset = -128, Block = &QGemm4x4c16Neon.Block,
            },
            _ => new QGemmKernel
            {
                Name = "QGemm4x8Scalar", Mr = 4, Nr = 8, Kr = 4, KBlock = 4, WeightBytes = 1,
                SignedOffset = 0, UnsignedOffset = 0, Block = &QGemmDriver.Block<QGemm4x8Scalar>,
            },
        };
    }
}
