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
/// As in <see cref="DepthwiseConvX86PairStrips"/>, the quads are built straight from the input (a zero-point strip
/// where a quad hangs over the edge, no padded row copy), the image goes in channel strips whose three quad rows
/// stay in L1, and with AVX-512 VL two pixel pairs go per step so each weight vector loaded feeds four VPDPBUSD.
/// zp * sum(w) folded into the bias, s8 inputs stored as x + 128 and the epilogue are <see cref="DepthwiseConvX86Rows"/>'s.
/// </para>
/// </summary>
internal static unsafe class DepthwiseConvX86PixelPairs
{
    // The three quad rows of a strip aim at about half of a 32-48 KB L1D, leaving room for the weights and output.
    private const int StripBudgetBytes = 20 * 1024;

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
        int strip = DepthwiseConvX86QuadStrips.StripChannels(channels, 3, pairs, StripBudgetBytes);
        int quadBytes = pairs * (strip / 32) * 128;
        const int Ring = 3;
        bool flip = typeof(T) == typeof(sbyte);
        int zpStored = a.InputZeroPoint + (flip ? 128 : 0);

        int weightBytes = blocks * 6 * 128;
        // Later calls of a node read what its first call prepared (weights interleaved, zp * sum(w) in the bias).
        DepthwiseX86Prepared? ready = DepthwiseX86Prepared.Find(a.Packed, DepthwiseX86Kernel.PixelPairs, g, zpStored, a.Bias, a.Scales, DepthwiseX86Scratch.PreparedSize(weightBytes, blocks));
        byte[] rented = ArrayPool<byte>.Shared.Rent(DepthwiseX86Scratch.Bytes(weightBytes, blocks, 9, period, strip + (Ring + 1) * quadBytes));
        try
        {
            fixed (byte* raw = rented)
            fixed (T* input = a.Input)
            fixed (sbyte* weights = a.Weights)
            fixed (int* bias = a.Bias)
            fixed (float* scales = a.Scales)
            fixed (T* output = a.Destination)
            {
                var scratch = new DepthwiseX86Scratch(raw, weightBytes, blocks, 9, period, ready is null ? null : ready.Start);
                byte* zpRaw = scratch.Rest, padQuad = zpRaw + strip, quads = padQuad + quadBytes;

                bool fits = DepthwiseX86Prepared.PrepareOrReuse(ready, a, DepthwiseX86Kernel.PixelPairs, zpStored, scratch, weights, 9, bias, scales,
                    new Preparation(blocks, zpStored));
                // Pixels past the image edge read this instead of the input: XOR-ed like an input byte it is the stored zero point.
                Unsafe.InitBlockUnaligned(zpRaw, (byte)a.InputZeroPoint, (uint)strip);
                // A padding row is the zero point everywhere; its weights' share is already in the bias.
                Unsafe.InitBlockUnaligned(padQuad, (byte)zpStored, (uint)quadBytes);

                int* ringRow = stackalloc int[Ring];
                var epilogue = new DepthwiseConvX86Rows.Epilogue(Requantization.Bounds(a.Output).Hi, a.Output.ZeroPoint, a.Output.Min, a.Output.Max);
                var builder = new DepthwiseConvX86PairStrips.QuadBuilder((byte*)input, g.InputWidth, channels, g.PadLeft, pairs, 2, zpRaw);
                byte** rows = stackalloc byte*[3];
                // Channel strips whose three quad rows stay in L1 (a 56x56x128 row of quads is 14 KB).
                for (int c0 = 0; c0 < channels; c0 += strip)
                {
                    int sb = Math.Min(strip, channels - c0) / 32, first = c0 / 32;
                    byte* wq = scratch.Weights + first * 768, biasQ = scratch.Bias + first * 128, scaleQ = scratch.Scales + first * 128;
                    for (int i = 0; i < Ring; i++) ringRow[i] = -1;
                    for (int oy = a.RowStart; oy < a.RowEnd; oy++)
                    {
                        builder.Gather<T>(oy - g.PadTop, 3, g.InputHeight, c0, sb, quads, quadBytes, ringRow, Ring, padQuad, rows);
                        T* dst = output + oy * rowBytes + c0;
                        if (fits) OutputRow<T, DepthwiseConvX86Rows.SkipHighClamp>(rows[0], rows[1], rows[2], wq, biasQ, scaleQ, sb, outWidth, channels, dst, epilogue);
                        else OutputRow<T, DepthwiseConvX86Rows.ClampHigh>(rows[0], rows[1], rows[2], wq, biasQ, scaleQ, sb, outWidth, channels, dst, epilogue);
                    }
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
    private readonly struct Preparation(int blocks, int zp) : IDepthwiseX86Preparation
    {
        public bool Expands => true;
        public void Prepare(in DepthwiseX86Scratch scratch) => PrepareWeights(scratch, blocks, zp);
    }

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

    /// <summary>One output row from the quad rows of its three input rows: both pixels of every pair from each loaded quad.</summary>
    private static void OutputRow<T, TClamp>(byte* r0, byte* r1, byte* r2, byte* wq, byte* biasQ, byte* scaleQ, int blocks, int outWidth,
        int channels, T* dst, in DepthwiseConvX86Rows.Epilogue e) where T : unmanaged where TClamp : struct
    {
        int full = outWidth / 2, next = blocks * 128;
        int p = 0;
        // Two pixel pairs per step: each weight vector loaded once feeds two VPDPBUSD. That takes 16 accumulators, in
        // registers only with EVEX encodings (see DepthwiseConvX86PairStrips); other cores take one pair per step.
        for (; TwoPairs && p + 1 < full; p += 2)
        {
            for (int b = 0; b < blocks; b++)
            {
                int o = (p * blocks + b) * 128;
                sbyte* w = (sbyte*)(wq + b * 768);
                var bq = (Vector256<int>*)(biasQ + b * 128);
                float* scale = (float*)(scaleQ + b * 128);
                Vector256<int> e0 = bq[0], e1 = bq[1], e2 = bq[2], e3 = bq[3];
                Vector256<int> d0 = e0, d1 = e1, d2 = e2, d3 = e3;
                Vector256<int> f0 = e0, f1 = e1, f2 = e2, f3 = e3;
                Vector256<int> g0 = e0, g1 = e1, g2 = e2, g3 = e3;
                Two(r0 + o, r1 + o, r2 + o, next, w, ref e0, ref d0, ref f0, ref g0);
                Two(r0 + o + 32, r1 + o + 32, r2 + o + 32, next, w + 32, ref e1, ref d1, ref f1, ref g1);
                Two(r0 + o + 64, r1 + o + 64, r2 + o + 64, next, w + 64, ref e2, ref d2, ref f2, ref g2);
                Two(r0 + o + 96, r1 + o + 96, r2 + o + 96, next, w + 96, ref e3, ref d3, ref f3, ref g3);
                T* even = dst + 2 * p * channels + b * 32;
                Avx.Store((byte*)even, e.Pack<T, TClamp>(e0, e1, e2, e3, scale));
                Avx.Store((byte*)(even + channels), e.Pack<T, TClamp>(d0, d1, d2, d3, scale));
                Avx.Store((byte*)(even + 2 * channels), e.Pack<T, TClamp>(f0, f1, f2, f3, scale));
                Avx.Store((byte*)(even + 3 * channels), e.Pack<T, TClamp>(g0, g1, g2, g3, scale));
            }
        }
        for (; p < full; p++)
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

    private static readonly bool TwoPairs = Avx512F.VL.IsSupported;

    /// <summary>8 channels of pairs p and p + 1 (quads <paramref name="next"/> bytes apart): six weight vectors, six quads, twelve VPDPBUSD.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Two(byte* r0, byte* r1, byte* r2, int next, sbyte* w,
        ref Vector256<int> evenA, ref Vector256<int> oddA, ref Vector256<int> evenB, ref Vector256<int> oddB)
    {
        Vector256<sbyte> e0 = Avx.LoadVector256(w), e1 = Avx.LoadVector256(w + 128), e2 = Avx.LoadVector256(w + 256);
        Vector256<sbyte> o0 = Avx.LoadVector256(w + 384), o1 = Avx.LoadVector256(w + 512), o2 = Avx.LoadVector256(w + 640);
        Vector256<byte> x = Avx.LoadVector256(r0), y = Avx.LoadVector256(r0 + next);
        evenA = AvxVnni.MultiplyWideningAndAdd(evenA, x, e0);
        oddA = AvxVnni.MultiplyWideningAndAdd(oddA, x, o0);
        evenB = AvxVnni.MultiplyWideningAndAdd(evenB, y, e0);
        oddB = AvxVnni.MultiplyWideningAndAdd(oddB, y, o0);
        x = Avx.LoadVector256(r1); y = Avx.LoadVector256(r1 + next);
        evenA = AvxVnni.MultiplyWideningAndAdd(evenA, x, e1);
        oddA = AvxVnni.MultiplyWideningAndAdd(oddA, x, o1);
        evenB = AvxVnni.MultiplyWideningAndAdd(evenB, y, e1);
        oddB = AvxVnni.MultiplyWideningAndAdd(oddB, y, o1);
        x = Avx.LoadVector256(r2); y = Avx.LoadVector256(r2 + next);
        evenA = AvxVnni.MultiplyWideningAndAdd(evenA, x, e2);
        oddA = AvxVnni.MultiplyWideningAndAdd(oddA, x, o2);
        evenB = AvxVnni.MultiplyWideningAndAdd(evenB, y, e2);
        oddB = AvxVnni.MultiplyWideningAndAdd(oddB, y, o2);
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
