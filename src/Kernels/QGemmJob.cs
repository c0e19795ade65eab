namespace EdgeAgent.Kernels;

/// <summary>
/// Everything one QGEMM call needs, as raw pointers so it can live on the caller's stack and be shared with
/// the worker threads for the duration of the call (the call does not return before they finish).
/// </summary>
internal unsafe struct QGemmJob
{
    public byte* A;
    public nint Lda;
    public int M;
    public int K;
    public bool ASigned;
    public int AZeroPoint;
    /// <summary>Zero point seen by the kernel after its sign flip (xor 0x80 adds or subtracts 128).</summary>
    public int AZeroPointEffective;

    public byte* B;
    public nint PanelBytes;
    public int N;
    public int* ColumnSums;
    public bool WeightsHaveMinus128;

    public int* Bias;
    public int* WeightZeroPoints;
    public int WeightZeroPointCount;

    public float* Scales;
    public int ScaleCount;

    public QGemmOutputKind Kind;
    public byte* C;
    public nint Ldc;
    public int OutputZeroPoint;
    public int Min;
    public int Max;
    /// <summary>
    /// u8/s8 output only: the clamp is the element type's whole range and no <c>acc * scale</c> of this call can
    /// reach 2^31 (<see cref="QGemmClampBound"/>), so the register sinks leave every clamp to the saturating packs.
    /// </summary>
    public bool ClampCannotBind;
}

/// <summary>A tile height known at compile time, so one kernel source specialises for 1..MR rows.</summary>
internal interface IRowCount { static abstract int Value { get; } }
internal struct Rows1 : IRowCount { public static int Value => 1; }
internal struct Rows2 : IRowCount { public static int Value => 2; }
internal struct Rows3 : IRowCount { public static int Value => 3; }
internal struct Rows4 : IRowCount { public static int Value => 4; }
internal struct Rows5 : IRowCount { public static int Value => 5; }
internal struct Rows6 : IRowCount { public static int Value => 6; }

/// <summary>A compile-time flag (here: whether the activations are s8).</summary>
internal interface IFlag { static abstract bool Value { get; } }
internal struct Yes : IFlag { public static bool Value => true; }
internal struct No : IFlag { public static bool Value => false; }

/// <summary>
/// A register-tiled microkernel: computes the raw int32 dot products of <typeparamref name="TRows"/> rows of A
/// (at most <see cref="Mr"/>) with one packed panel of <see cref="Nr"/> columns over the whole depth, and stores
/// them row-major (stride <see cref="Nr"/>) to <c>acc</c>. The epilogue is applied by the driver.
/// </summary>
internal unsafe interface IQGemmMicrokernel
{
    static abstract int Mr { get; }
    static abstract int Nr { get; }
    static abstract void Tile<TRows, TSigned>(byte* a, nint lda, int k, byte* b, int* acc)
        where TRows : struct, IRowCount where TSigned : struct, IFlag;
}

/// <summary>
/// A 16-column x86 microkernel that can also finish its tile in registers: accumulators start from
/// <typeparamref name="TSink"/>'s column terms and leave through it (see <see cref="QGemmTileOutput"/>).
/// </summary>
internal unsafe interface IQGemmFusedMicrokernel : IQGemmMicrokernel
{
    static abstract void Tile<TRows, TSigned, TSink>(byte* a, nint lda, int k, byte* b, QGemmTileOutput* o)
        where TRows : struct, IRowCount where TSigned : struct, IFlag where TSink : struct, IQGemmTileSink;

    /// <summary>Whether <see cref="TilePair"/> runs well on this CPU.</summary>
    static abstract bool HasTilePair { get; }

    /// <summary>3 or 4 rows against two consecutive full panels at once (<c>panelBytes</c> apart).</summary>
    static abstract void TilePair<TRows, TSigned, TSink>(byte* a, nint lda, int k, byte* b, nint panelBytes, QGemmTileOutput* o0, QGemmTileOutput* o1)
        where TRows : struct, IRowCount where TSigned : struct, IFlag where TSink : struct, IQGemmTileSink;

    /// <summary>Whether <see cref="PanelRows"/> can run depth <paramref name="k"/> on this CPU.</summary>
    static abstract bool HasPanelRows(int k);

    /// <summary>Every one of <paramref name="rows"/> rows against one full panel whose weights stay in registers.</summary>
    static abstract void PanelRows<TSigned, TSink>(byte* a, nint lda, int k, int rows, byte* b, QGemmTileOutput* o)
        where TSigned : struct, IFlag where TSink : struct, IQGemmTileSink;
}

/// <summary>A number of k-groups of 4 known at compile time, so a small-depth kernel unrolls over them.</summary>
internal interface IKGroups { static abstract int Value { get; } }
internal struct KGroups1 : IKGroups { public static int Value => 1; }
internal struct KGroups2 : IKGroups { public static int Value => 2; }
internal struct KGroups3 : IKGroups { public static int Value => 3; }
internal struct KGroups4 : IKGroups { public static int Value => 4; }

/// <summary>
/// A one-row microkernel over several panels side by side, for GEMV-like rows: computes the raw dot products of one
/// row of A with <typeparamref name="TPanels"/> (1, 2 or 4) consecutive packed panels of 16 columns (the layout of
/// the path's tile kernel, panels <c>panelBytes</c> apart) and stores them to <c>acc</c> (16 per panel, in order).
/// </summary>
internal unsafe interface IQGemmRowMicrokernel
{
    static abstract void Row<TPanels, TSigned>(byte* a, int k, byte* b, nint panelBytes, int* acc)
        where TPanels : struct, IRowCount where TSigned : struct, IFlag;
}

/// <summary>Description of one path's QGEMM in the kernel table.</summary>
internal sealed unsafe class QGemmKernel
{
    public required string Name { get; init; }
    public required int Mr { get; init; }
    public required int Nr { get; init; }
    /// <summary>Consecutive k per column in the packed layout.</summary>
    public required int Kr { get; init; }
    /// <summary>K is padded to a multiple of this.</summary>
    public required int KBlock { get; init; }
    /// <summary>1 for s8 packed weights, 2 for weights pre-widened to s16.</summary>
    public required int WeightBytes { get; init; }
    /// <summary>What the kernel adds to s8 activations (xor 0x80 = +128) before multiplying.</summary>
    public required int SignedOffset { get; init; }
    /// <summary>What the kernel adds to u8 activations (xor 0x80 = -128) before multiplying.</summary>
    public required int UnsignedOffset { get; init; }
    /// <summary>Whether k x k convolutions can run as an indirect GEMM on this path (<see cref="QConvIndirect"/>).</summary>
    public bool HasIndirectConv { get; init; }
    /// <summary>Computes output rows [m0, m1) x panels [p0, p1) of the job.</summary>
    public required delegate*<QGemmJob*, int, int, int, int, void> Block { get; init; }
}
