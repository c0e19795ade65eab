using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// Int8 depthwise 3x3 convolution, stride 1, no dilation, C a multiple of 32, for AVX-VNNI: the MobileNet
/// stride-1 layers. It is <see cref="DepthwiseConvX86QuadRows"/> with one input quad per pair of output pixels.
/// <para>
/// Why: a kernel-row quad of output pixel ox is the four input pixels ox .. ox + 3 of one input row, of which a
/// 3-wide kernel uses three (the fourth multiplies a zero weight). The same four pixels are the window of
/// output pixel ox + 1 shifted by one, so one quad serves both outputs: weights (w0, w1, w2, 0) give pixel ox,
/// weights (0, w0, w1, w2) give pixel ox + 1. Quads are then built only at even pixels, which halves the
/// per-input-row interleave (4 loads, 8 unpacks, 4 stores per 32 channels and pixel pair) and the quad rows'
/// size, and each loaded quad feeds two VPDPBUSD. With C a multiple of 32 every 32-byte output block lies in
/// one pixel, so blocks never straddle the pair and there is no row tail.
/// </para>
/// <para>
/// Everything else is shared with <see cref="DepthwiseConvX86Rows"/>: input rows copied once into a slot padded
/// with the zero point, zp * sum(w) folded into the bias, s8 inputs stored as x + 128, the same epilogue.
/// </para>
/// </summary>
internal static unsafe class DepthwiseConvX86PixelPairs
{
    /// <summary>Shapes this kernel takes; the rest go to <see cref="DepthwiseConvX86QuadRows"/>.</summary>
    public static bool Handles(in WindowGeometry g, int channels) =>
        g.KernelHeight == 3 && g.KernelWidth == 3 && g.StrideHeight == 1 && g.StrideWidth == 1
        && g.DilationHeight == 1 && g.DilationWidth == 1
        && channels % 32 == 0 && channels / 32 <= DepthwiseConvX86Rows.MaxPhases;

    public static void Run<T>(in DepthwiseArgs<T> a) where T : unmanaged
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, blocks = channels / 32, period = channels;
        int outWidth = g.OutputWidth, pairs = (outWidth + 1) / 2, rowBytes = outWidth * channels;
        // The last pair's quad reaches padded pixel 2 * pairs + 1.
        int paddedPixels = Math.Max(g.PadLeft + g.InputWidth, 2 * pairs + 2);
        int slotBytes = DepthwiseX86Scratch.Align(paddedPixels * channels);
        int quadBytes = pairs * blocks * 128;
        const int Ring = 3;
        bool flip = typeof(T) == typeof(sbyte);
        int zpStored = a.InputZeroPoint + (flip ? 128 : 0);

        int weightBytes = blocks * 6 * 128;
        byte[] rented = ArrayPool<byte>.Shared.Rent(DepthwiseX86Scratch.Bytes(weightBytes, blocks, 9, period, slotBytes + (Ring + 1) * quadBytes));
        try
        {
            fixed (byte* raw = rented)
            fixed (T* input = a.Input)
            fixed (sbyte* weights = a.Weights)
            fixed (int* bias = a.Bias)
            fixed (float* scales = a.Scales)
            fixed (T* output = a.Destination)
            {
                var scratch = new DepthwiseX86Scratch(raw, weightBytes, blocks, 9, period);
                byte* wq = scratch.Weights, biasQ = scratch.Bias, scaleQ = scratch.Scales;
                byte* slot = scratch.Rest, padQuad = slot + slotBytes, quads = padQuad + quadBytes;

                scratch.Expand(weights, 9, channels, bias, a.Bias.IsEmpty, scales);
                PrepareWeights(scratch, blocks, zpStored);
                // A padding row is the zero point everywhere; its weights' share is already in the bias.
                Unsafe.InitBlockUnaligned(padQuad, (byte)zpStored, (uint)quadBytes);

                byte** ring = stackalloc byte*[Ring];
                int* ringRow = stackalloc int[Ring];
                for (int i = 0; i < Ring; i++) { ring[i] = quads + i * quadBytes; ringRow[i] = -1; }
                var epilogue = new DepthwiseConvX86Rows.Epilogue(Requantization.Bounds(a.Output).Hi, a.Output.ZeroPoint, a.Output.Min, a.Output.Max);
                bool fits = DepthwiseConvX86Rows.FitsWithoutHighClamp(weights, 9, channels, bias, a.Bias.IsEmpty, scales, zpStored);
                byte* source = (byte*)input;
                int inRowBytes = g.InputWidth * channels;
                byte** rows = stackalloc byte*[3];
                for (int oy = a.RowStart; oy < a.RowEnd; oy++)
                {
                    for (int ky = 0; ky < 3; ky++)
                    {
                        int iy = oy - g.PadTop + ky;
                        if ((uint)iy >= (uint)g.InputHeight) { rows[ky] = padQuad; continue; }
                        int s = iy % Ring;
                        if (ringRow[s] != iy)
                        {
                            DepthwiseConvX86Rows.FillSlot(slot, source + iy * inRowBytes, g.InputWidth, channels, g.PadLeft, 1, slotBytes, slotBytes, (byte)zpStored, flip);
                            BuildQuads(slot, channels, blocks, pairs, ring[s]);
                            ringRow[s] = iy;
                        }
                        rows[ky] = ring[s];
                    }
                    T* dst = output + oy * rowBytes;
                    if (fits) OutputRow<T, DepthwiseConvX86Rows.SkipHighClamp>(rows[0], rows[1], rows[2], wq, biasQ, scaleQ, blocks, outWidth, channels, dst, epilogue);
                    else OutputRow<T, DepthwiseConvX86Rows.ClampHigh>(rows[0], rows[1], rows[2], wq, biasQ, scaleQ, blocks, outWidth, channels, dst, epilogue);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Per 32-channel block and kernel row, the weight quads for the even pixel (w0, w1, w2, 0) and for the odd
    /// one (0, w0, w1, w2), in the order the input quads are built; the bias less zp * sum(w) and the scales in
    /// accumulator order.
    /// </summary>
    private static void PrepareWeights(in DepthwiseX86Scratch scratch, int blocks, int zp)
    {
        Vector256<byte> zpBytes = Vector256.Create((byte)zp), zero = Vector256<byte>.Zero;
        for (int b = 0; b < blocks; b++)
        {
            Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default;
            for (int ky = 0; ky < 3; ky++)
            {
                Vector256<byte> w0 = scratch.ExpandedTap(ky * 3, 9, b);
                Vector256<byte> w1 = scratch.ExpandedTap(ky * 3 + 1, 9, b);
                Vector256<byte> w2 = scratch.ExpandedTap(ky * 3 + 2, 9, b);
                DepthwiseConvX86Rows.Quads(w0, w1, w2, zero, out var e0, out var e1, out var e2, out var e3);
                DepthwiseConvX86Rows.Quads(zero, w0, w1, w2, out var o0, out var o1, out var o2, out var o3);
                byte* even = scratch.Weights + (b * 6 + ky) * 128, odd = scratch.Weights + (b * 6 + 3 + ky) * 128;
                Avx.Store(even, e0); Avx.Store(even + 32, e1); Avx.Store(even + 64, e2); Avx.Store(even + 96, e3);
                Avx.Store(odd, o0); Avx.Store(odd + 32, o1); Avx.Store(odd + 64, o2); Avx.Store(odd + 96, o3);
                c0 = AvxVnni.MultiplyWideningAndAdd(c0, zpBytes, e0.AsSByte());
                c1 = AvxVnni.MultiplyWideningAndAdd(c1, zpBytes, e1.AsSByte());
                c2 = AvxVnni.MultiplyWideningAndAdd(c2, zpBytes, e2.AsSByte());
                c3 = AvxVnni.MultiplyWideningAndAdd(c3, zpBytes, e3.AsSByte());
            }
            scratch.StoreEpilogue(b, c0, c1, c2, c3);
        }
    }

    /// <summary>
    /// One padded input row to its quad row: for pixel pair p and channel block b, the quads
    /// (x[2p], x[2p + 1], x[2p + 2], x[2p + 3]) of the block's 32 channels.
    /// </summary>
    private static void BuildQuads(byte* slot, int channels, int blocks, int pairs, byte* quad)
    {
        int c = channels, step = 2 * channels;
        for (int p = 0; p < pairs; p++)
        {
            byte* src = slot + p * step;
            for (int b = 0; b < blocks; b++, src += 32, quad += 128)
            {
                DepthwiseConvX86Rows.Quads(Avx.LoadVector256(src), Avx.LoadVector256(src + c), Avx.LoadVector256(src + 2 * c),
                    Avx.LoadVector256(src + 3 * c), out var q0, out var q1, out var q2, out var q3);
                Avx.Store(quad, q0); Avx.Store(quad + 32, q1); Avx.Store(quad + 64, q2); Avx.Store(quad + 96, q3);
            }
        }
    }

    /// <summary>One output row from the quad rows of its three input rows: both pixels of every pair from each loaded quad.</summary>
    private static void OutputRow<T, TClamp>(byte* r0, byte* r1, byte* r2, byte* wq, byte* biasQ, byte* scaleQ, int blocks, int outWidth,
        int channels, T* dst, in DepthwiseConvX86Rows.Epilogue e) where T : unmanaged where TClamp : struct
    {
        int full = outWidth / 2;
        for (int p = 0; p < full; p++)
        {
            for (int b = 0; b < blocks; b++)
            {
                int o = (p * blocks + b) * 128;
                sbyte* w = (sbyte*)(wq + b * 768);
                var bq = (Vector256<int>*)(biasQ + b * 128);
                float* scale = (float*)(scaleQ + b * 128);
                Both(r0 + o, r1 + o, r2 + o, w, bq[0], out var e0, out var d0);
                Both(r0 + o + 32, r1 + o + 32, r2 + o + 32, w + 32, bq[1], out var e1, out var d1);
                Both(r0 + o + 64, r1 + o + 64, r2 + o + 64, w + 64, bq[2], out var e2, out var d2);
                Both(r0 + o + 96, r1 + o + 96, r2 + o + 96, w + 96, bq[3], out var e3, out var d3);
                T* even = dst + 2 * p * channels + b * 32;
                Avx.Store((byte*)even, e.Pack<T, TClamp>(e0, e1, e2, e3, scale));
                Avx.Store((byte*)(even + channels), e.Pack<T, TClamp>(d0, d1, d2, d3, scale));
            }
        }
        if (full * 2 < outWidth)
        {
            for (int b = 0; b < blocks; b++)
            {
                int o = (full * blocks + b) * 128;
                sbyte* w = (sbyte*)(wq + b * 768);
                var bq = (Vector256<int>*)(biasQ + b * 128);
                var e0 = Even(r0 + o, r1 + o, r2 + o, w, bq[0]);
                var e1 = Even(r0 + o + 32, r1 + o + 32, r2 + o + 32, w + 32, bq[1]);
                var e2 = Even(r0 + o + 64, r1 + o + 64, r2 + o + 64, w + 64, bq[2]);
                var e3 = Even(r0 + o + 96, r1 + o + 96, r2 + o + 96, w + 96, bq[3]);
                Avx.Store((byte*)(dst + 2 * full * channels + b * 32), e.Pack<T, TClamp>(e0, e1, e2, e3, (float*)(scaleQ + b * 128)));
            }
        }
    }

    /// <summary>8 channels of the even and the odd pixel of a pair: three quads, six VPDPBUSD.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Both(byte* r0, byte* r1, byte* r2, sbyte* w, Vector256<int> bias, out Vector256<int> even, out Vector256<int> odd)
    {
        Vector256<byte> x = Avx.LoadVector256(r0);
        even = AvxVnni.MultiplyWideningAndAdd(bias, x, Avx.LoadVector256(w));
        odd = AvxVnni.MultiplyWideningAndAdd(bias, x, Avx.LoadVector256(w + 384));
        x = Avx.LoadVector256(r1);
        even = AvxVnni.MultiplyWideningAndAdd(even, x, Avx.LoadVector256(w + 128));
        odd = AvxVnni.MultiplyWideningAndAdd(odd, x, Avx.LoadVector256(w + 512));
        x = Avx.LoadVector256(r2);
        even = AvxVnni.MultiplyWideningAndAdd(even, x, Avx.LoadVector256(w + 256));
        odd = AvxVnni.MultiplyWideningAndAdd(odd, x, Avx.LoadVector256(w + 640));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Even(byte* r0, byte* r1, byte* r2, sbyte* w, Vector256<int> bias)
    {
        Vector256<int> acc = AvxVnni.MultiplyWideningAndAdd(bias, Avx.LoadVector256(r0), Avx.LoadVector256(w));
        acc = AvxVnni.MultiplyWideningAndAdd(acc, Avx.LoadVector256(r1), Avx.LoadVector256(w + 128));
        return AvxVnni.MultiplyWideningAndAdd(acc, Avx.LoadVector256(r2), Avx.LoadVector256(w + 256));
    }
}
