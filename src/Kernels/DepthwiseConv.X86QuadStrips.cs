using System.Buffers;
using System.Runtime.CompilerServices;

namespace EdgeAgent.Kernels;

/// <summary>
/// What a quad-strip depthwise kernel (<see cref="DepthwiseConvX86PairStrips"/>, <see cref="DepthwiseConvX86StridePairs"/>)
/// gives <see cref="DepthwiseConvX86QuadStrips"/>: its quad layout, its weight preparation and its output row.
/// </summary>
internal unsafe interface IQuadStripKernel
{
    static abstract DepthwiseX86Kernel Kind { get; }

    /// <summary>Taps per kernel row.</summary>
    static abstract int KernelWidth { get; }

    /// <summary>Quads an input row holds beyond one per output pixel pair (what the last pair reads past its own quad).</summary>
    static abstract int ExtraQuads { get; }

    /// <summary>Input pixels from one quad to the next.</summary>
    static abstract int QuadStep { get; }

    /// <summary>Prepared weight bytes per 32-channel block and kernel row.</summary>
    static abstract int WeightRowBytes { get; }

    /// <summary>Lays out the expanded weights of <paramref name="scratch"/> for <see cref="Row"/>.</summary>
    static abstract void PrepareWeights(in DepthwiseX86Scratch scratch, int kh, int blocks, int zp);

    /// <summary>One output row of one channel strip of <paramref name="sb"/> 32-channel blocks.</summary>
    static abstract void Row<T, TClamp>(byte* wq, byte* biasQ, byte* scaleQ, int kh, int sb, int channels, byte** rows, int outWidth,
        T* dst, in DepthwiseConvX86Rows.Epilogue e) where T : unmanaged where TClamp : struct;
}

/// <summary>
/// The driver the quad-strip depthwise kernels share: the image goes in channel strips whose KH quad rows stay in L1;
/// each input row's quads are built once (<see cref="DepthwiseConvX86PairStrips.QuadBuilder"/>) into a ring of KH rows
/// and read by every output row that uses it; a node's first call prepares the weights and keeps them
/// (<see cref="DepthwiseX86Prepared"/>).
/// </summary>
internal static unsafe class DepthwiseConvX86QuadStrips
{
    // The KH quad rows of a strip aim at about half of a 32-48 KB L1D, leaving room for the weights and output.
    internal const int StripBudgetBytes = 20 * 1024;

    /// <summary>Channels per strip: whole 32-channel blocks, as many as keep KH quad rows within <paramref name="budget"/> bytes.</summary>
    internal static int StripChannels(int channels, int kh, int quadsPerRow, int budget)
    {
        int perBlock = kh * quadsPerRow * 128;
        int blocks = Math.Max(1, budget / perBlock);
        return Math.Min(channels, blocks * 32);
    }

    public static void Run<T, TKernel>(in DepthwiseArgs<T> a) where T : unmanaged where TKernel : IQuadStripKernel
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, blocks = channels / 32, kh = g.KernelHeight, taps = kh * TKernel.KernelWidth;
        int outWidth = g.OutputWidth, pairs = (outWidth + 1) / 2, quadsPerRow = pairs + TKernel.ExtraQuads;
        int strip = StripChannels(channels, kh, quadsPerRow, StripBudgetBytes), stripBlocks = strip / 32;
        int quadRowBytes = quadsPerRow * stripBlocks * 128;
        bool flip = typeof(T) == typeof(sbyte);
        int zpStored = a.InputZeroPoint + (flip ? 128 : 0);

        int weightRowBytes = TKernel.WeightRowBytes, weightBytes = blocks * kh * weightRowBytes;
        // Later calls of a node read what its first call prepared (weights interleaved, zp * sum(w) in the bias).
        DepthwiseX86Prepared? ready = DepthwiseX86Prepared.Find(a.Packed, TKernel.Kind, g, zpStored, a.Bias, a.Scales, DepthwiseX86Scratch.PreparedSize(weightBytes, blocks));
        byte[] rented = ArrayPool<byte>.Shared.Rent(DepthwiseX86Scratch.Bytes(weightBytes, blocks, taps, channels, strip + (kh + 1) * quadRowBytes));
        try
        {
            fixed (byte* raw = rented)
            fixed (T* input = a.Input)
            fixed (sbyte* weights = a.Weights)
            fixed (int* bias = a.Bias)
            fixed (float* scales = a.Scales)
            fixed (T* output = a.Destination)
            {
                var scratch = new DepthwiseX86Scratch(raw, weightBytes, blocks, taps, channels, ready is null ? null : ready.Start);
                byte* zpRaw = scratch.Rest, padQuads = zpRaw + strip, quads = padQuads + quadRowBytes;

                bool fits = DepthwiseX86Prepared.PrepareOrReuse(ready, a, TKernel.Kind, zpStored, scratch, weights, taps, bias, scales,
                    new Preparation<TKernel>(kh, blocks, zpStored));
                // Pixels past the image edge read this instead of the input: XOR-ed like an input byte it is the stored zero point.
                Unsafe.InitBlockUnaligned(zpRaw, (byte)a.InputZeroPoint, (uint)strip);
                // A padding row is the zero point everywhere; its weights' share is already in the bias.
                Unsafe.InitBlockUnaligned(padQuads, (byte)zpStored, (uint)quadRowBytes);

                int* ringRow = stackalloc int[kh];
                byte** rows = stackalloc byte*[kh];
                var epilogue = new DepthwiseConvX86Rows.Epilogue(Requantization.Bounds(a.Output).Hi, a.Output.ZeroPoint, a.Output.Min, a.Output.Max);
                var builder = new DepthwiseConvX86PairStrips.QuadBuilder((byte*)input, g.InputWidth, channels, g.PadLeft, quadsPerRow, TKernel.QuadStep, zpRaw);
                int rowBytes = outWidth * channels;

                for (int c0 = 0; c0 < channels; c0 += strip)
                {
                    int sb = Math.Min(strip, channels - c0) / 32;
                    for (int i = 0; i < kh; i++) ringRow[i] = -1;
                    byte* wq = scratch.Weights + c0 / 32 * kh * weightRowBytes, biasQ = scratch.Bias + c0 / 32 * 128, scaleQ = scratch.Scales + c0 / 32 * 128;
                    for (int oy = a.RowStart; oy < a.RowEnd; oy++)
                    {
                        builder.Gather<T>(oy * g.StrideHeight - g.PadTop, kh, g.InputHeight, c0, sb, quads, quadRowBytes, ringRow, kh, padQuads, rows);
                        T* dst = output + oy * rowBytes + c0;
                        if (fits) TKernel.Row<T, DepthwiseConvX86Rows.SkipHighClamp>(wq, biasQ, scaleQ, kh, sb, channels, rows, outWidth, dst, epilogue);
                        else TKernel.Row<T, DepthwiseConvX86Rows.ClampHigh>(wq, biasQ, scaleQ, kh, sb, channels, rows, outWidth, dst, epilogue);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private readonly struct Preparation<TKernel>(int kh, int blocks, int zp) : IDepthwiseX86Preparation where TKernel : IQuadStripKernel
    {
        public bool Expands => true;
        public void Prepare(in DepthwiseX86Scratch scratch) => TKernel.PrepareWeights(scratch, kh, blocks, zp);
    }
}
