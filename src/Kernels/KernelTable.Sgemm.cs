namespace EdgeAgent.Kernels;

public sealed partial class KernelTable
{
    private SimdPath _floatPath;

    /// <summary>
    /// Float kernels gain nothing from VNNI but do from 512-bit FMA, so an AVX-VNNI table on a CPU that can also run the
    /// AVX-512 table (AMD Zen 4/5, Intel Sapphire Rapids and later) takes the AVX-512 float kernels, while its int8 kernels
    /// stay on 256-bit VNNI (faster than AVX-512BW's multiply-add pairs). Every float path gives the same bits, so this
    /// changes speed only (float MobileNet-224 in `./build.sh bench models`: 4.71 ms with the AVX2 kernels, 3.60 ms).
    /// </summary>
    partial void FillFloat() =>
        _floatPath = Isa == Isa.AvxVnni && CpuFeatures.Host.Supports(Isa.Avx512) ? SimdPath.Avx512 : SimdPaths.For(Isa);

    /// <summary>
    /// The vector code <see cref="Sgemm"/> runs for this table (<c>scalar</c>, <c>neon</c>, <c>avx2</c>, <c>avx512</c>):
    /// float kernels gain nothing from dot-product or VNNI instructions, so this can differ from <see cref="Name"/>.
    /// </summary>
    public string SgemmPathName => PathName(_floatPath);

    /// <summary>The vector code the float <see cref="DepthwiseConv(in WindowGeometry, int, ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, FloatActivation, Span{float}, int, int)"/> runs (AVX-512 tables use the AVX2 kernel).</summary>
    public string DepthwiseFloatPathName => PathName(_floatPath == SimdPath.Avx512 ? SimdPath.Avx2 : _floatPath);

    private static string PathName(SimdPath path) => path switch
    {
        SimdPath.Neon => "neon",
        SimdPath.Avx2 => "avx2",
        SimdPath.Avx512 => "avx512",
        _ => "scalar",
    };

    /// <summary>
    /// Float GEMM for inference (ONNX MatMul/Gemm): <c>C = activation(A · B + bias)</c> with B prepacked by
    /// <see cref="SgemmPacking.Pack"/> or <see cref="SgemmPacking.PackTransposed"/>. Every element is computed as
    /// a sequential fused multiply-add chain over k starting from its bias, so every path gives the same bits.
    /// To split over threads, slice rows (A and C) or whole 16-column panels (see <see cref="SgemmPacking"/>).
    /// </summary>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="n">Columns of B and C.</param>
    /// <param name="k">Columns of A, rows of B.</param>
    /// <param name="a">A, m x k row-major with row stride <paramref name="lda"/>.</param>
    /// <param name="lda">Row stride of A (at least k).</param>
    /// <param name="packedB">B packed for SGEMM (length <see cref="SgemmPacking.PackedLength"/>).</param>
    /// <param name="bias">n values added to every row, or empty.</param>
    /// <param name="c">C, m x n row-major with row stride <paramref name="ldc"/>.</param>
    /// <param name="ldc">Row stride of C (at least n).</param>
    /// <param name="activation">Fused clamp, or <see cref="FloatActivation.None"/>.</param>
    public unsafe void Sgemm(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> packedB,
        ReadOnlySpan<float> bias, Span<float> c, int ldc, FloatActivation activation)
    {
        const string kernel = "SGEMM";
        CheckDims(kernel, m, n, k);
        CheckMatrix(kernel, "A", a.Length, m, k, lda);
        KernelArguments.CheckLength(kernel, "packed B", packedB.Length, SgemmPacking.PackedLength(k, n));
        if (!bias.IsEmpty) KernelArguments.CheckLength(kernel, "bias", bias.Length, n);
        CheckMatrix(kernel, "C", c.Length, m, n, ldc);
        fixed (float* pa = a)
        fixed (float* pb = packedB)
        fixed (float* pbias = bias)
        fixed (float* pc = c)
        {
            SgemmDriver.Run(_floatPath, m, n, k, pa, lda, 1, SgemmDriver.BSource.Packed, pb, 0, null,
                bias.IsEmpty ? null : pbias, pc, ldc, accumulate: false, activation);
        }
    }

    /// <summary>Scratch floats <see cref="MatMul"/> needs for a given K (one packed panel of B).</summary>
    public static int MatMulScratchLength(int k) => checked(SgemmPacking.PanelWidth * k);

    /// <summary>
    /// The general float product for training and for weights that change between calls:
    /// <c>C = op(A) · op(B)</c>, or <c>C += op(A) · op(B)</c> when <paramref name="accumulate"/> (gradient
    /// accumulation), where op transposes when asked. Nothing needs prepacking: B is packed one 16-column panel at
    /// a time into <paramref name="scratch"/>. Same bit-exact FMA chains as <see cref="Sgemm"/> (starting from 0
    /// or from the old C).
    /// </summary>
    /// <param name="transposeA">False: A is m x k (row stride lda). True: A is stored k x m and used transposed.</param>
    /// <param name="transposeB">False: B is k x n (row stride ldb). True: B is stored n x k and used transposed.</param>
    /// <param name="scratch">At least <see cref="MatMulScratchLength"/>(k) floats, or empty when k &lt;= 512 (the stack is used).</param>
    public unsafe void MatMul(bool transposeA, bool transposeB, int m, int n, int k, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate, Span<float> scratch = default)
    {
        const string kernel = "MatMul";
        CheckDims(kernel, m, n, k);
        if (transposeA) CheckMatrix(kernel, "A (stored k x m)", a.Length, k, m, lda);
        else CheckMatrix(kernel, "A", a.Length, m, k, lda);
        if (transposeB) CheckMatrix(kernel, "B (stored n x k)", b.Length, n, k, ldb);
        else CheckMatrix(kernel, "B", b.Length, k, n, ldb);
        CheckMatrix(kernel, "C", c.Length, m, n, ldc);
        int need = MatMulScratchLength(k);
        Span<float> work = scratch.IsEmpty && need <= 8192 ? stackalloc float[need] : scratch;
        KernelArguments.CheckLength(kernel, "scratch", work.Length, need);
        fixed (float* pa = a)
        fixed (float* pb = b)
        fixed (float* pc = c)
        fixed (float* ps = work)
        {
            SgemmDriver.Run(_floatPath, m, n, k, pa, transposeA ? 1 : lda, transposeA ? lda : 1,
                transposeB ? SgemmDriver.BSource.Transposed : SgemmDriver.BSource.RowMajor, pb, ldb, ps,
                null, pc, ldc, accumulate, FloatActivation.None);
        }
    }

    /// <summary><c>C (+)= Aᵀ · B</c> with A stored k x m and B k x n: weight gradients (Xᵀ · dY).</summary>
    public void MatMulTransposedA(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate, Span<float> scratch = default) =>
        MatMul(true, false, m, n, k, a, lda, b, ldb, c, ldc, accumulate, scratch);

    /// <summary><c>C (+)= A · Bᵀ</c> with A stored m x k and B n x k: input gradients (dY · Wᵀ).</summary>
    public void MatMulTransposedB(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate, Span<float> scratch = default) =>
        MatMul(false, true, m, n, k, a, lda, b, ldb, c, ldc, accumulate, scratch);

    private static void CheckDims(string kernel, int m, int n, int k)
    {
        if (m <= 0 || n <= 0 || k <= 0) throw new ArgumentException($"{kernel}: M, N and K must be positive, got M={m}, N={n}, K={k}");
    }

    private static void CheckMatrix(string kernel, string name, int length, int rows, int cols, int stride)
    {
        if (stride < cols) throw new ArgumentException($"{kernel}: row stride of {name} is {stride}, below its {cols} columns");
        KernelArguments.CheckLength(kernel, name, length, (long)(rows - 1) * stride + cols);
    }
}
