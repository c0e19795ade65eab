using System.Runtime.CompilerServices;

namespace EdgeAgent.Kernels;

/// <summary>
/// A k x k convolution as an indirect GEMM on AVX-VNNI (<see cref="QIGemm6x16AvxVnni"/>): instead of gathering
/// each output pixel's receptive field into an im2col row, a block of output pixels gets a table of pointers, one
/// per (pixel, tap), into the NHWC input (or to a row of input zero points where the tap falls in the padding),
/// and the tile reads the input through it. Nothing of A is written: the gathered rows of a 56x56 3x3 convolution
/// over 64 channels are 1.8 MB, written once and read once per weight panel, where the input is 200 KB.
/// Used for symmetric weights with a multiple of 4 channels per group (a k-group never straddles two taps);
/// other convolutions keep im2col. Blocks of output pixels are independent, so a pool takes them in any order
/// and the bits do not depend on the thread count.
/// </summary>
internal static unsafe class QConvIndirect
{
    private const int Mr = QIGemm6x16AvxVnni.Mr;

    // The padding row lives on the stack; wider groups keep im2col.
    private const int MaxGroupChannels = 4096;

    /// <summary>Whether <paramref name="table"/> and <paramref name="shape"/> can take the indirect path.</summary>
    public static bool Supports(KernelTable table, Conv2DShape shape) =>
        table.QGemm.HasIndirectConv && !shape.IsPointwise && shape.GroupInChannels % 4 == 0 && shape.GroupInChannels <= MaxGroupChannels;

    /// <summary>
    /// Output pixels per block: the block's pointer table (pixels x taps) stays within 32 KB of stack, in whole tiles,
    /// and up to 96 pixels, which keeps the input rows a block reads in L1 while each weight panel passes over them.
    /// </summary>
    private static int BlockPixels(int taps) => Math.Clamp(4096 / taps / Mr * Mr, Mr, 16 * Mr);

    /// <summary>One image and group of <paramref name="conv"/>: input pixels of <paramref name="input"/> to the group's output columns.</summary>
    public static void Run(Conv2DShape s, PackedWeights weights, in QGemmInput input, int batch, int group, in QGemmOutput output,
        ReadOnlySpan<int> bias, WorkerPool? pool)
    {
        var kernel = weights.Table.QGemm;
        int outPixels = s.OutHeight * s.OutWidth;
        fixed (byte* x = input.Data)
        fixed (byte* pb = weights.Data)
        fixed (int* sums = weights.ColumnSums)
        fixed (int* pBias = bias)
        fixed (float* scales = output.Scales)
        fixed (byte* pc = output.Data)
        {
            var job = new QGemmJob
            {
                A = null, Lda = 0, M = outPixels, K = weights.K, ASigned = input.IsSigned, AZeroPoint = input.ZeroPoint,
                AZeroPointEffective = input.ZeroPoint + (input.IsSigned ? kernel.SignedOffset : kernel.UnsignedOffset),
                B = pb, PanelBytes = weights.PanelBytes, N = weights.N, ColumnSums = sums, WeightsHaveMinus128 = weights.HasMinus128,
                Bias = bias.IsEmpty ? null : pBias, WeightZeroPoints = null, WeightZeroPointCount = 0,
                Scales = output.Scales.IsEmpty ? null : scales, ScaleCount = output.Scales.Length,
                Kind = output.Kind, C = pc + (long)batch * outPixels * output.Stride * output.ElementSize, Ldc = output.Stride,
                OutputZeroPoint = output.ZeroPoint, Min = output.Min, Max = output.Max,
            };
            var image = new Image
            {
                Shape = s, Pixels = x + (long)batch * s.Height * s.Width * input.Stride + group * s.GroupInChannels,
                Stride = input.Stride, ZeroPoint = (byte)input.ZeroPoint,
            };
            int blockPixels = BlockPixels(s.KernelHeight * s.KernelWidth);
            int blocks = (outPixels + blockPixels - 1) / blockPixels;
            if (pool is null || pool.ThreadCount == 1 || blocks == 1)
            {
                for (int i = 0; i < blocks; i++) RunBlock(&job, &image, i * blockPixels, Math.Min(blockPixels, outPixels - i * blockPixels));
                return;
            }
            var work = t_work ??= new BlockWork();
            work.Job = &job;
            work.Image = &image;
            work.BlockPixels = blockPixels;
            try
            {
                pool.Run(work, blocks);
            }
            finally
            {
                work.Job = null;
                work.Image = null;
            }
        }
    }

    /// <summary>Where the taps read: the first channel of this group in pixel (0, 0) of this image, and the geometry.</summary>
    private struct Image
    {
        public Conv2DShape Shape;
        public byte* Pixels;
        public nint Stride;
        public byte ZeroPoint;
    }

    [ThreadStatic] private static BlockWork? t_work;

    /// <summary>Block i of the image on whichever thread takes it; the pointers stay valid for the dispatch (the caller pins).</summary>
    private sealed class BlockWork : IParallelWork
    {
        public QGemmJob* Job;
        public Image* Image;
        public int BlockPixels;

        public void Execute(int index)
        {
            int first = index * BlockPixels;
            RunBlock(Job, Image, first, Math.Min(BlockPixels, Job->M - first));
        }
    }

    [SkipLocalsInit]
    private static void RunBlock(QGemmJob* job, Image* image, int first, int count)
    {
        var s = image->Shape;
        int taps = s.KernelHeight * s.KernelWidth, cg = s.GroupInChannels;
        int tiles = (count + Mr - 1) / Mr;
        byte** ptrs = stackalloc byte*[tiles * taps * Mr];
        byte* padding = stackalloc byte[cg];
        Unsafe.InitBlockUnaligned(padding, image->ZeroPoint, (uint)cg);
        FillPointers(image, first, count, tiles, ptrs, padding);
        switch (job->Kind, job->ASigned)
        {
            case (QGemmOutputKind.UInt8, false) when QuantizedTileSinkAvx512<No, No>.IsSupported: Block<No, QuantizedTileSinkAvx512<No, No>>(job, ptrs, taps, cg, first, count); break;
            case (QGemmOutputKind.UInt8, true) when QuantizedTileSinkAvx512<No, No>.IsSupported: Block<Yes, QuantizedTileSinkAvx512<No, No>>(job, ptrs, taps, cg, first, count); break;
            case (QGemmOutputKind.Int8, false) when QuantizedTileSinkAvx512<Yes, No>.IsSupported: Block<No, QuantizedTileSinkAvx512<Yes, No>>(job, ptrs, taps, cg, first, count); break;
            case (QGemmOutputKind.Int8, true) when QuantizedTileSinkAvx512<Yes, No>.IsSupported: Block<Yes, QuantizedTileSinkAvx512<Yes, No>>(job, ptrs, taps, cg, first, count); break;
            case (QGemmOutputKind.UInt8, false): Block<No, QuantizedTileSink<No, No>>(job, ptrs, taps, cg, first, count); break;
            case (QGemmOutputKind.UInt8, true): Block<Yes, QuantizedTileSink<No, No>>(job, ptrs, taps, cg, first, count); break;
            case (QGemmOutputKind.Int8, false): Block<No, QuantizedTileSink<Yes, No>>(job, ptrs, taps, cg, first, count); break;
            case (QGemmOutputKind.Int8, true): Block<Yes, QuantizedTileSink<Yes, No>>(job, ptrs, taps, cg, first, count); break;
            case (QGemmOutputKind.Int32, false): Block<No, Int32TileSink>(job, ptrs, taps, cg, first, count); break;
            case (QGemmOutputKind.Int32, true): Block<Yes, Int32TileSink>(job, ptrs, taps, cg, first, count); break;
            case (_, false): Block<No, Float32TileSink>(job, ptrs, taps, cg, first, count); break;
            default: Block<Yes, Float32TileSink>(job, ptrs, taps, cg, first, count); break;
        }
    }

    /// <summary>
    /// Pointer <c>(tile * taps + tap) * Mr + row</c> is where output pixel <c>first + tile * Mr + row</c> reads tap
    /// (ky, kx): its input pixel, or <paramref name="padding"/> outside the image. The rows of a last partial tile
    /// point at the padding too (the tile loads them but never multiplies them).
    /// </summary>
    private static void FillPointers(Image* image, int first, int count, int tiles, byte** ptrs, byte* padding)
    {
        var s = image->Shape;
        int taps = s.KernelHeight * s.KernelWidth, ow = s.OutWidth;
        for (int i = count; i < tiles * Mr; i++)
            for (int tap = 0; tap < taps; tap++)
                ptrs[((i / Mr) * taps + tap) * Mr + i % Mr] = padding;
        int oy = first / ow, ox = first - oy * ow;
        for (int i = 0; i < count; i++)
        {
            byte** p = ptrs + (i / Mr) * taps * Mr + i % Mr;
            int iy0 = oy * s.StrideHeight - s.PadTop, ix0 = ox * s.StrideWidth - s.PadLeft;
            for (int ky = 0; ky < s.KernelHeight; ky++)
            {
                int iy = iy0 + ky * s.DilationHeight;
                bool rowInside = (uint)iy < (uint)s.Height;
                byte* row = image->Pixels + (long)iy * s.Width * image->Stride;
                for (int kx = 0; kx < s.KernelWidth; kx++, p += Mr)
                {
                    int ix = ix0 + kx * s.DilationWidth;
                    *p = rowInside && (uint)ix < (uint)s.Width ? row + (long)ix * image->Stride : padding;
                }
            }
            if (++ox == ow) { ox = 0; oy++; }
        }
    }

    /// <summary>
    /// The block's output pixels [first, first + count) against every panel: panels outside (one stays in L1 while
    /// the block's tiles pass), tiles inside, each finished in registers through <typeparamref name="TSink"/>; a last
    /// partial panel stores its tiles for <see cref="QGemmEpilogue.Apply"/>.
    /// </summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TS, TSink>(QGemmJob* job, byte** ptrs, int taps, int cg, int first, int count)
        where TS : struct, IFlag where TSink : struct, IQGemmTileSink
    {
        const int nr = 16;
        int* acc = stackalloc int[Mr * nr];
        int* colTerm = stackalloc int[nr];
        QGemmTileOutput o = default;
        o.Acc = acc;
        int panels = (job->N + nr - 1) / nr;
        for (int p = 0; p < panels; p++)
        {
            byte* b = job->B + p * job->PanelBytes;
            int n0 = p * nr, nc = Math.Min(nr, job->N - n0);
            QGemmEpilogue.ColumnTerms(job, n0, nc, colTerm);
            if (nc < nr)
            {
                for (int i = 0; i < count; i += Mr)
                {
                    int rows = Math.Min(Mr, count - i);
                    Tile<TS, RawTileSink<TileStride16>>(ptrs + i * taps, rows, taps, cg, b, &o);
                    QGemmEpilogue.Apply(job, acc, nr, colTerm, first + i, rows, n0, nc);
                }
                continue;
            }
            o.Prepare(job, colTerm, n0);
            byte* c0 = job->C + QGemmTileOutput.ColumnOffset(job, n0) + first * o.LdcBytes;
            for (int i = 0; i < count; i += Mr)
            {
                o.C = c0 + i * o.LdcBytes;
                Tile<TS, TSink>(ptrs + i * taps, Math.Min(Mr, count - i), taps, cg, b, &o);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile<TS, TSink>(byte** ptrs, int rows, int taps, int cg, byte* b, QGemmTileOutput* o)
        where TS : struct, IFlag where TSink : struct, IQGemmTileSink
    {
        switch (rows)
        {
            case 1: QIGemm6x16AvxVnni.Tile<Rows1, TS, TSink>(ptrs, taps, cg, b, o); break;
            case 2: QIGemm6x16AvxVnni.Tile<Rows2, TS, TSink>(ptrs, taps, cg, b, o); break;
            case 3: QIGemm6x16AvxVnni.Tile<Rows3, TS, TSink>(ptrs, taps, cg, b, o); break;
            case 4: QIGemm6x16AvxVnni.Tile<Rows4, TS, TSink>(ptrs, taps, cg, b, o); break;
            case 5: QIGemm6x16AvxVnni.Tile<Rows5, TS, TSink>(ptrs, taps, cg, b, o); break;
            default: QIGemm6x16AvxVnni.Tile<Rows6, TS, TSink>(ptrs, taps, cg, b, o); break;
        }
    }
}
