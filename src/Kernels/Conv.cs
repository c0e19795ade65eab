using System.Runtime.CompilerServices;

namespace EdgeAgent.Kernels;

/// <summary>
/// Quantized 2-D convolution on QGEMM (NHWC, see <see cref="Conv2DShape"/>): weights packed once per group;
/// a pointwise (1x1, stride 1, unpadded) convolution multiplies the input directly; on AVX-VNNI, symmetric weights
/// over a multiple of 4 channels per group go through an indirect GEMM (<see cref="QConvIndirect"/>, no im2col);
/// every other one first gathers each output pixel's receptive field into a caller-provided scratch row (im2col), padding with the
/// input zero point, so padded taps contribute exactly zero. Groups are separate GEMMs writing their
/// channel range of the output. On one thread the gathering goes a block of output pixels at a time, right
/// before the block is multiplied, so it stays in cache; with a pool each worker does the same with its own blocks. Depthwise convolutions have their own direct kernels; this class runs them
/// correctly but as N=1 GEMMs.
/// </summary>
public sealed class QConv2D
{
    private readonly PackedWeights[] _groups;

    /// <summary>The convolution's geometry.</summary>
    public Conv2DShape Shape { get; }

    /// <summary>The kernel path the weights were packed for.</summary>
    public KernelTable Table { get; }

    /// <summary>Bytes of scratch <see cref="Run"/> needs (0 for pointwise convolutions).</summary>
    public int ScratchBytes { get; }

    /// <summary>Packs <paramref name="weights"/> (s8, [OutChannels][InChannels/Groups][KernelHeight][KernelWidth]).</summary>
    public QConv2D(KernelTable table, Conv2DShape shape, ReadOnlySpan<sbyte> weights)
    {
        ArgumentNullException.ThrowIfNull(table);
        shape.Validate();
        int kernelArea = shape.KernelHeight * shape.KernelWidth, cg = shape.GroupInChannels, ng = shape.GroupOutChannels, k = shape.GemmK;
        if (weights.Length != (long)shape.OutChannels * cg * kernelArea)
            ThrowHelper.Argument(nameof(weights), $"convolution weights hold {weights.Length} values, [{shape.OutChannels}][{cg}][{shape.KernelHeight}][{shape.KernelWidth}] needs {(long)shape.OutChannels * cg * kernelArea}");
        Table = table;
        Shape = shape;
        ScratchBytes = shape.IsPointwise ? 0 : checked(shape.OutHeight * shape.OutWidth * k);
        _groups = new PackedWeights[shape.Groups];
        // Reorder OIHW to one row per output channel in im2col order (ky, kx, c): channels innermost, as NHWC reads them.
        var rows = new sbyte[ng * k];
        for (int g = 0; g < shape.Groups; g++)
        {
            for (int n = 0; n < ng; n++)
                for (int c = 0; c < cg; c++)
                    for (int tap = 0; tap < kernelArea; tap++)
                        rows[n * k + tap * cg + c] = weights[((g * ng + n) * cg + c) * kernelArea + tap];
            _groups[g] = PackedWeights.Pack(table, rows, k, ng, k, transposed: true);
        }
    }

    /// <summary>
    /// Convolves <paramref name="input"/> (rows = Batch x Height x Width pixels, stride = channels per pixel,
    /// at least InChannels) into <paramref name="output"/> (rows = Batch x OutHeight x OutWidth, columns =
    /// OutChannels). <paramref name="bias"/> and <paramref name="weightZeroPoints"/> are per output channel
    /// (or one value for the zero points), as for <see cref="QGemm.Run"/>.
    /// </summary>
    public void Run(in QGemmInput input, in QGemmOutput output, Span<byte> scratch,
        ReadOnlySpan<int> bias = default, ReadOnlySpan<int> weightZeroPoints = default, WorkerPool? pool = null)
    {
        var s = Shape;
        if (input.Rows != s.Batch * s.Height * s.Width || input.Stride < s.InChannels)
            ThrowHelper.Argument(nameof(input), $"convolution input has {input.Rows} pixels of stride {input.Stride}; shape needs {s.Batch}x{s.Height}x{s.Width} pixels of at least {s.InChannels} channels");
        int outPixels = s.OutHeight * s.OutWidth;
        if (output.Stride < s.OutChannels)
            ThrowHelper.Argument(nameof(output), $"convolution output stride {output.Stride} is below {s.OutChannels} output channels");
        if (scratch.Length < ScratchBytes)
            ThrowHelper.Argument(nameof(scratch), $"convolution scratch has {scratch.Length} bytes, needs {ScratchBytes}");
        if (!bias.IsEmpty && bias.Length != s.OutChannels)
            ThrowHelper.Argument(nameof(bias), $"convolution bias has {bias.Length} values, expected {s.OutChannels}");
        if (weightZeroPoints.Length is not (0 or 1) && weightZeroPoints.Length != s.OutChannels)
            ThrowHelper.Argument(nameof(weightZeroPoints), $"convolution weight zero points: {weightZeroPoints.Length} values, expected 0, 1 or {s.OutChannels}");

        int cg = s.GroupInChannels, ng = s.GroupOutChannels, k = s.GemmK;
        for (int g = 0; g < s.Groups; g++)
        {
            var groupOut = output.FromColumn(g * ng, ng);
            var groupBias = bias.IsEmpty ? bias : bias.Slice(g * ng, ng);
            var groupZb = weightZeroPoints.Length > 1 ? weightZeroPoints.Slice(g * ng, ng) : weightZeroPoints;
            if (s.IsPointwise)
            {
                var a = input.With(input.Data.Slice(g * cg), input.Rows, input.Stride);
                QGemm.Run(a, _groups[g], groupOut, groupBias, groupZb, pool);
                continue;
            }
            if (QConvIndirect.Supports(Table, s) && groupZb.IndexOfAnyExcept(0) < 0)
            {
                for (int b = 0; b < s.Batch; b++) QConvIndirect.Run(s, _groups[g], input, b, g, groupOut, groupBias, pool);
                continue;
            }
            for (int b = 0; b < s.Batch; b++)
            {
                if (pool is null || pool.ThreadCount == 1)
                {
                    // One thread: gather and multiply a block of pixels at a time, so the gathered rows are still
                    // in L2 when every weight panel passes over them (a whole 56x56 image of 3x3x64 taps is 1.8 MB).
                    int blockRows = BlockRows(k);
                    for (int r0 = 0; r0 < outPixels; r0 += blockRows)
                    {
                        int rows = Math.Min(blockRows, outPixels - r0);
                        Im2Col(input, b, g, r0, rows, scratch);
                        QGemm.Run(input.With(scratch, rows, k), _groups[g], groupOut.FromRow(b * outPixels + r0), groupBias, groupZb);
                    }
                }
                else if (BlockWorkers(outPixels, k, pool.ThreadCount, scratch.Length) is int workers and > 1)
                {
                    RunBlocksInParallel(input, b, g, groupOut, scratch, groupBias, groupZb, pool, workers);
                }
                else
                {
                    Im2Col(input, b, g, 0, outPixels, scratch);
                    QGemm.Run(input.With(scratch, outPixels, k), _groups[g], groupOut.FromRow(b * outPixels), groupBias, groupZb, pool);
                }
            }
        }
    }

    // Bytes of gathered rows per block: a fraction of L2 (the weights and output share it), a whole number of
    // the QGEMM tile's rows, and at least a few tiles so each call's fixed costs stay small.
    private const int BlockBudgetBytes = 96 * 1024;

    private int BlockRows(int k)
    {
        int mr = Table.QGemmTile.Rows;
        return Math.Max(4 * mr, BlockBudgetBytes / k / mr * mr);
    }

    /// <summary>
    /// With a pool: how many workers gather and multiply their own blocks (each in its own slice of the scratch),
    /// or 1 when the image has fewer blocks than threads (the whole image is gathered, then the GEMM is split).
    /// </summary>
    private int BlockWorkers(int outPixels, int k, int threads, int scratchBytes)
    {
        int blockRows = BlockRows(k), blocks = (outPixels + blockRows - 1) / blockRows;
        if (blocks < threads) return 1;
        return Math.Min(threads, scratchBytes / (blockRows * k));
    }

    [ThreadStatic] private static BlockWork? t_blockWork;

    private unsafe void RunBlocksInParallel(in QGemmInput input, int batch, int group, in QGemmOutput output, Span<byte> scratch,
        ReadOnlySpan<int> bias, ReadOnlySpan<int> weightZeroPoints, WorkerPool pool, int workers)
    {
        fixed (byte* x = input.Data)
        fixed (byte* y = output.Data)
        fixed (byte* sc = scratch)
        fixed (float* scales = output.Scales)
        fixed (int* pb = bias)
        fixed (int* pz = weightZeroPoints)
        {
            // One work item per calling thread, reused: no allocation per dispatch.
            var work = t_blockWork ??= new BlockWork();
            work.Conv = this; work.Batch = batch; work.Group = group; work.Workers = workers;
            work.Input = x; work.InputBytes = input.Data.Length; work.InputStride = input.Stride; work.InputSigned = input.IsSigned; work.InputZeroPoint = input.ZeroPoint;
            work.Output = y; work.OutputBytes = output.Data.Length; work.Kind = output.Kind; work.OutputStride = output.Stride;
            work.Scales = scales; work.ScaleCount = output.Scales.Length; work.OutputZeroPoint = output.ZeroPoint; work.Min = output.Min; work.Max = output.Max;
            work.Scratch = sc; work.Bias = pb; work.BiasCount = bias.Length; work.WeightZeroPoints = pz; work.WeightZeroPointCount = weightZeroPoints.Length;
            try
            {
                pool.Run(work, workers);
            }
            finally
            {
                work.Conv = null;
            }
        }
    }

    /// <summary>
    /// Worker i takes blocks i, i + workers, ... of one image and group: gathers each into its own slice of the
    /// scratch and multiplies it on its own thread. The spans arrive as pointers, pinned by the caller for the dispatch.
    /// </summary>
    private sealed unsafe class BlockWork : IParallelWork
    {
        public QConv2D? Conv;
        public int Batch, Group, Workers;
        public byte* Input;
        public int InputBytes, InputStride, InputZeroPoint;
        public bool InputSigned;
        public byte* Output;
        public int OutputBytes, OutputStride, ScaleCount, OutputZeroPoint, Min, Max;
        public QGemmOutputKind Kind;
        public float* Scales;
        public byte* Scratch;
        public int* Bias;
        public int BiasCount;
        public int* WeightZeroPoints;
        public int WeightZeroPointCount;

        public void Execute(int index)
        {
            var conv = Conv!;
            var s = conv.Shape;
            int k = s.GemmK, outPixels = s.OutHeight * s.OutWidth, blockRows = conv.BlockRows(k);
            var input = InputSigned
                ? QGemmInput.Int8(new ReadOnlySpan<sbyte>(Input, InputBytes), s.Batch * s.Height * s.Width, InputStride, InputZeroPoint)
                : QGemmInput.UInt8(new ReadOnlySpan<byte>(Input, InputBytes), s.Batch * s.Height * s.Width, InputStride, InputZeroPoint);
            var output = QGemmOutput.FromParts(new Span<byte>(Output, OutputBytes), Kind, OutputStride,
                new ReadOnlySpan<float>(Scales, ScaleCount), OutputZeroPoint, Min, Max);
            var scratch = new Span<byte>(Scratch + (long)index * blockRows * k, blockRows * k);
            var bias = new ReadOnlySpan<int>(Bias, BiasCount);
            var zb = new ReadOnlySpan<int>(WeightZeroPoints, WeightZeroPointCount);
            for (int r0 = index * blockRows; r0 < outPixels; r0 += Workers * blockRows)
            {
                int rows = Math.Min(blockRows, outPixels - r0);
                conv.Im2Col(input, Batch, Group, r0, rows, scratch);
                QGemm.Run(input.With(scratch, rows, k), conv._groups[Group], output.FromRow(Batch * outPixels + r0), bias, zb);
            }
        }
    }

    /// <summary>
    /// Output pixels [<paramref name="first"/>, <paramref name="first"/> + <paramref name="count"/>) as rows from the
    /// start of <paramref name="scratch"/>: for each tap (ky, kx), the group's channels of the input pixel it hits.
    /// </summary>
    private unsafe void Im2Col(in QGemmInput input, int batch, int group, int first, int count, Span<byte> scratch)
    {
        var s = Shape;
        int cg = s.GroupInChannels, k = s.GemmK, stride = input.Stride, ow = s.OutWidth;
        byte pad = (byte)input.ZeroPoint;
        bool contiguousRow = stride == cg && s.DilationWidth == 1;
        fixed (byte* data = input.Data)
        fixed (byte* dst0 = scratch)
        {
            byte* image = data + (long)batch * s.Height * s.Width * stride + group * cg;
            byte* dst = dst0;
            for (int pixel = first; pixel < first + count; pixel++)
            {
                int oy = pixel / ow, ox = pixel - oy * ow;
                int iy0 = oy * s.StrideHeight - s.PadTop, ix0 = ox * s.StrideWidth - s.PadLeft;
                for (int ky = 0; ky < s.KernelHeight; ky++)
                {
                    int iy = iy0 + ky * s.DilationHeight;
                    if ((uint)iy >= (uint)s.Height)
                    {
                        Unsafe.InitBlockUnaligned(dst, pad, (uint)(cg * s.KernelWidth));
                        dst += cg * s.KernelWidth;
                        continue;
                    }
                    byte* row = image + (long)iy * s.Width * stride;
                    // Channels packed (stride = group channels) and the whole kernel row inside the image: its taps are
                    // one run of bytes, one copy instead of one per tap.
                    if (contiguousRow && ix0 >= 0 && ix0 + s.KernelWidth <= s.Width)
                    {
                        Unsafe.CopyBlockUnaligned(dst, row + (long)ix0 * stride, (uint)(cg * s.KernelWidth));
                        dst += cg * s.KernelWidth;
                        continue;
                    }
                    for (int kx = 0; kx < s.KernelWidth; kx++, dst += cg)
                    {
                        int ix = ix0 + kx * s.DilationWidth;
                        if ((uint)ix < (uint)s.Width) Unsafe.CopyBlockUnaligned(dst, row + (long)ix * stride, (uint)cg);
                        else Unsafe.InitBlockUnaligned(dst, pad, (uint)cg);
                    }
                }
            }
        }
    }
}
