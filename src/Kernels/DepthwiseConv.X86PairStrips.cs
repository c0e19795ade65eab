using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// Int8 depthwise convolution for AVX-VNNI with a five-wide kernel (5x5 and any height up to 8), stride 1, no
/// dilation, C a multiple of 32: the 5x5 layers of MobileNetV3 / EfficientNet-style models.
/// <para>
/// Why: <see cref="DepthwiseConvX86Rows"/> groups the 25 taps in flat quads, so every output row interleaves its
/// five input rows again (56 byte/word unpacks per 32 outputs, the limit of that kernel). Here the quads depend
/// only on the input row: quad m of a row is the padded pixels (2m, 2m + 1, 2m + 2, 2m + 3), built once per input
/// row at even pixels only and read by the KH output rows that use the row. Output pixel 2m takes quad m with
/// weights (w0, w1, w2, w3) and quad m + 2 with (w4, 0, 0, 0); pixel 2m + 1 takes quad m with (0, w0, w1, w2) and
/// quad m + 2 with (w3, w4, 0, 0). So each kernel row costs four VPDPBUSD per pixel pair and 8 channels, two quad
/// loads and no shuffle; the build is 8 unpacks per pixel pair and 32 channels per input row, about 5 per 32
/// outputs instead of 56.
/// </para>
/// <para>
/// The image is processed in channel strips sized so that the KH quad rows of a strip stay in L1 (a 480-channel
/// quad row is 17 KB, five of them do not fit; a strip of 128 channels at 14x14 is 4.6 KB a row). Quads are built
/// straight from the input (the zero point where a quad hangs over the edge), with no padded slot copy. The weight
/// preparation, zp * sum(w) folded into the bias, s8 inputs stored as x + 128 and the epilogue are
/// <see cref="DepthwiseConvX86Rows"/>'s.
/// </para>
/// </summary>
internal static unsafe class DepthwiseConvX86PairStrips
{
    private const int MaxKernelHeight = 8;

    /// <summary>Shapes this kernel takes; the rest go to <see cref="DepthwiseConvX86Rows"/>.</summary>
    public static bool Handles(in WindowGeometry g, int channels) =>
        g.KernelWidth == 5 && g.KernelHeight <= MaxKernelHeight && g.StrideHeight == 1 && g.StrideWidth == 1
        && g.DilationHeight == 1 && g.DilationWidth == 1
        && channels % 32 == 0 && channels / 32 <= DepthwiseConvX86Rows.MaxPhases;

    public static void Run<T>(in DepthwiseArgs<T> a) where T : unmanaged => DepthwiseConvX86QuadStrips.Run<T, Kernel>(a);

    private readonly struct Kernel : IQuadStripKernel
    {
        public static DepthwiseX86Kernel Kind => DepthwiseX86Kernel.PairStrips;
        public static int KernelWidth => 5;
        // Pixel 2m reads quads m and m + 2.
        public static int ExtraQuads => 2;
        public static int QuadStep => 2;
        public static int WeightRowBytes => 512;

        public static void PrepareWeights(in DepthwiseX86Scratch scratch, int kh, int blocks, int zp) =>
            DepthwiseConvX86PairStrips.PrepareWeights(scratch, kh, blocks, zp);

        public static void Row<T, TClamp>(byte* wq, byte* biasQ, byte* scaleQ, int kh, int sb, int channels, byte** rows, int outWidth,
            T* dst, in DepthwiseConvX86Rows.Epilogue e) where T : unmanaged where TClamp : struct =>
            new Job(wq, biasQ, scaleQ, kh, sb, channels).Row<T, TClamp>(rows, outWidth, dst, e);
    }

    /// <summary>
    /// Per 32-channel block, kernel row and dword group v, the four weight quads in the order the output loop reads
    /// them: even pixel (w0, w1, w2, w3) and (w4, 0, 0, 0), odd pixel (0, w0, w1, w2) and (w3, w4, 0, 0). The bias less
    /// zp * sum(w) and the scales in accumulator order (the even pixel's two quads hold each tap once).
    /// </summary>
    private static void PrepareWeights(in DepthwiseX86Scratch scratch, int kh, int blocks, int zp)
    {
        Vector256<byte> zpBytes = Vector256.Create((byte)zp), zero = Vector256<byte>.Zero;
        int taps = kh * 5;
        for (int b = 0; b < blocks; b++)
        {
            Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default;
            for (int ky = 0; ky < kh; ky++)
            {
                Vector256<byte> w0 = scratch.ExpandedTap(ky * 5, taps, b), w1 = scratch.ExpandedTap(ky * 5 + 1, taps, b);
                Vector256<byte> w2 = scratch.ExpandedTap(ky * 5 + 2, taps, b), w3 = scratch.ExpandedTap(ky * 5 + 3, taps, b);
                Vector256<byte> w4 = scratch.ExpandedTap(ky * 5 + 4, taps, b);
                DepthwiseConvX86Rows.Quads(w0, w1, w2, w3, out var e0, out var e1, out var e2, out var e3);
                DepthwiseConvX86Rows.Quads(w4, zero, zero, zero, out var f0, out var f1, out var f2, out var f3);
                DepthwiseConvX86Rows.Quads(zero, w0, w1, w2, out var o0, out var o1, out var o2, out var o3);
                DepthwiseConvX86Rows.Quads(w3, w4, zero, zero, out var p0, out var p1, out var p2, out var p3);
                byte* w = scratch.Weights + (b * kh + ky) * 512;
                Store(w, e0, f0, o0, p0);
                Store(w + 128, e1, f1, o1, p1);
                Store(w + 256, e2, f2, o2, p2);
                Store(w + 384, e3, f3, o3, p3);
                c0 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(c0, zpBytes, e0.AsSByte()), zpBytes, f0.AsSByte());
                c1 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(c1, zpBytes, e1.AsSByte()), zpBytes, f1.AsSByte());
                c2 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(c2, zpBytes, e2.AsSByte()), zpBytes, f2.AsSByte());
                c3 = AvxVnni.MultiplyWideningAndAdd(AvxVnni.MultiplyWideningAndAdd(c3, zpBytes, e3.AsSByte()), zpBytes, f3.AsSByte());
            }
            scratch.StoreEpilogue(b, c0, c1, c2, c3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(byte* w, Vector256<byte> a, Vector256<byte> b, Vector256<byte> c, Vector256<byte> d)
    {
        Avx.Store(w, a); Avx.Store(w + 32, b); Avx.Store(w + 64, c); Avx.Store(w + 96, d);
    }

    /// <summary>
    /// Builds one input row's quads for one channel strip straight from the input: quad m is the padded pixels
    /// <c>step m .. step m + 3</c>, block b of the strip at <c>(m sb + b) 128</c>. Pixels outside the row read a strip of
    /// raw zero-point bytes; s8 inputs are XOR-ed with 0x80 on the way (the stored form x + 128).
    /// </summary>
    internal readonly struct QuadBuilder(byte* input, int width, int channels, int padLeft, int quadsPerRow, int step, byte* zpRaw)
    {
        /// <summary>
        /// Points <paramref name="rows"/>[0 .. count) at the quad rows of input rows <c>iy0 .. iy0 + count - 1</c> for the strip at
        /// <paramref name="c0"/>: rows outside the image read <paramref name="padQuads"/>; the others live in a ring of
        /// <paramref name="ringSize"/> quad rows at <paramref name="quads"/> (slot <c>iy % ringSize</c>, <paramref name="ringRow"/>
        /// holding each slot's input row, -1 for none) and are built on first use, so each input row is built once per strip.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Gather<T>(int iy0, int count, int height, int c0, int sb, byte* quads, int quadRowBytes, int* ringRow, int ringSize,
            byte* padQuads, byte** rows) where T : unmanaged
        {
            for (int k = 0; k < count; k++)
            {
                int iy = iy0 + k;
                if ((uint)iy >= (uint)height) { rows[k] = padQuads; continue; }
                int s = iy % ringSize;
                byte* slot = quads + s * quadRowBytes;
                if (ringRow[s] != iy)
                {
                    Build<T>(iy, c0, sb, slot);
                    ringRow[s] = iy;
                }
                rows[k] = slot;
            }
        }

        public void Build<T>(int iy, int c0, int sb, byte* quad) where T : unmanaged
        {
            byte* row = input + (long)iy * width * channels + c0;
            if (step == 2)
            {
                BuildOverlapping<T>(row, sb, quad);
                return;
            }
            int c = channels;
            for (int m = 0; m < quadsPerRow; m++)
            {
                int ix = step * m - padLeft;
                if (ix >= 0 && ix + 3 < width)
                {
                    byte* p = row + ix * c;
                    for (int b = 0, o = 0; b < sb; b++, o += 32, quad += 128)
                        Interleave<T>(p + o, p + c + o, p + 2 * c + o, p + 3 * c + o, quad);
                }
                else
                {
                    byte* p0 = Pixel(row, ix), p1 = Pixel(row, ix + 1), p2 = Pixel(row, ix + 2), p3 = Pixel(row, ix + 3);
                    for (int b = 0, o = 0; b < sb; b++, o += 32, quad += 128)
                        Interleave<T>(p0 + o, p1 + o, p2 + o, p3 + o, quad);
                }
            }
        }

        /// <summary>
        /// Step 2: quads m and m + 1 share the pixel pair 2m + 2, 2m + 3, so each pair's bytes are interleaved to words
        /// once (2 unpacks) and every quad is two word unpacks of neighbouring pairs: per quad 2 loads and 6 unpacks
        /// instead of 4 loads and 8, the same bytes as <see cref="DepthwiseConvX86Rows.Quads"/>.
        /// </summary>
        private void BuildOverlapping<T>(byte* row, int sb, byte* quad) where T : unmanaged
        {
            int stride = sb * 128;
            for (int b = 0, o = 0; b < sb; b++, o += 32)
            {
                byte* dst = quad + b * 128;
                Words<T>(row, -padLeft, o, out var lo, out var hi);
                for (int m = 0; m < quadsPerRow; m++, dst += stride)
                {
                    Words<T>(row, 2 * m + 2 - padLeft, o, out var nextLo, out var nextHi);
                    Avx.Store(dst, Avx2.UnpackLow(lo, nextLo).AsByte());
                    Avx.Store(dst + 32, Avx2.UnpackHigh(lo, nextLo).AsByte());
                    Avx.Store(dst + 64, Avx2.UnpackLow(hi, nextHi).AsByte());
                    Avx.Store(dst + 96, Avx2.UnpackHigh(hi, nextHi).AsByte());
                    lo = nextLo;
                    hi = nextHi;
                }
            }
        }

        /// <summary>Pixels ix and ix + 1 (block offset <paramref name="o"/>) byte-interleaved: the first step of <see cref="DepthwiseConvX86Rows.Quads"/>.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Words<T>(byte* row, int ix, int o, out Vector256<short> lo, out Vector256<short> hi) where T : unmanaged
        {
            Vector256<byte> a, b;
            if (ix >= 0 && ix + 1 < width)
            {
                byte* p = row + ix * channels + o;
                a = Avx.LoadVector256(p);
                b = Avx.LoadVector256(p + channels);
            }
            else
            {
                a = Avx.LoadVector256(Pixel(row, ix) + o);
                b = Avx.LoadVector256(Pixel(row, ix + 1) + o);
            }
            if (typeof(T) == typeof(sbyte))
            {
                Vector256<byte> m = Vector256.Create((byte)0x80);
                a = Avx2.Xor(a, m); b = Avx2.Xor(b, m);
            }
            lo = Avx2.UnpackLow(a, b).AsInt16();
            hi = Avx2.UnpackHigh(a, b).AsInt16();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Interleave<T>(byte* p0, byte* p1, byte* p2, byte* p3, byte* quad) where T : unmanaged
        {
            Vector256<byte> a = Avx.LoadVector256(p0), b = Avx.LoadVector256(p1), c = Avx.LoadVector256(p2), d = Avx.LoadVector256(p3);
            if (typeof(T) == typeof(sbyte))
            {
                Vector256<byte> m = Vector256.Create((byte)0x80);
                a = Avx2.Xor(a, m); b = Avx2.Xor(b, m); c = Avx2.Xor(c, m); d = Avx2.Xor(d, m);
            }
            DepthwiseConvX86Rows.Quads(a, b, c, d, out var q0, out var q1, out var q2, out var q3);
            Avx.Store(quad, q0); Avx.Store(quad + 32, q1); Avx.Store(quad + 64, q2); Avx.Store(quad + 96, q3);
        }

        /// <summary>The strip's bytes of input pixel ix, or (outside the row) the strip of raw zero-point bytes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private byte* Pixel(byte* row, int ix) => (uint)ix < (uint)width ? row + ix * channels : zpRaw;
    }

    private static readonly bool TwoPairs = Avx512F.VL.IsSupported;

    private readonly struct Job(byte* wq, byte* biasQ, byte* scaleQ, int kh, int sb, int channels)
    {
        public void Row<T, TClamp>(byte** rows, int outWidth, T* dst, in DepthwiseConvX86Rows.Epilogue e)
            where T : unmanaged where TClamp : struct
        {
            int full = outWidth / 2, far = 2 * sb * 128, next = sb * 128;
            int m = 0;
            // Two pixel pairs per step: every weight vector loaded once feeds four VPDPBUSD. That takes 16 accumulators,
            // which the JIT keeps in ymm0-15 with the inputs and weights in ymm16-31 when it may use EVEX encodings
            // (AVX-512 VL); with 16 registers only it would spill, so such cores take one pair per step.
            for (; TwoPairs && m + 1 < full; m += 2)
            {
                for (int b = 0; b < sb; b++)
                {
                    int o = (m * sb + b) * 128;
                    var bq = (Vector256<int>*)(biasQ + b * 128);
                    Vector256<int> e0 = bq[0], e1 = bq[1], e2 = bq[2], e3 = bq[3];
                    Vector256<int> d0 = e0, d1 = e1, d2 = e2, d3 = e3;
                    Vector256<int> f0 = e0, f1 = e1, f2 = e2, f3 = e3;
                    Vector256<int> g0 = e0, g1 = e1, g2 = e2, g3 = e3;
                    sbyte* w = (sbyte*)(wq + b * kh * 512);
                    for (int ky = 0; ky < kh; ky++, w += 512)
                    {
                        byte* r = rows[ky] + o;
                        Two(r, r + next, far, w, ref e0, ref d0, ref f0, ref g0);
                        Two(r + 32, r + next + 32, far, w + 128, ref e1, ref d1, ref f1, ref g1);
                        Two(r + 64, r + next + 64, far, w + 256, ref e2, ref d2, ref f2, ref g2);
                        Two(r + 96, r + next + 96, far, w + 384, ref e3, ref d3, ref f3, ref g3);
                    }
                    float* scale = (float*)(scaleQ + b * 128);
                    T* even = dst + 2 * m * channels + b * 32;
                    Avx.Store((byte*)even, e.Pack<T, TClamp>(e0, e1, e2, e3, scale));
                    Avx.Store((byte*)(even + channels), e.Pack<T, TClamp>(d0, d1, d2, d3, scale));
                    Avx.Store((byte*)(even + 2 * channels), e.Pack<T, TClamp>(f0, f1, f2, f3, scale));
                    Avx.Store((byte*)(even + 3 * channels), e.Pack<T, TClamp>(g0, g1, g2, g3, scale));
                }
            }
            for (; m < full; m++)
            {
                for (int b = 0; b < sb; b++)
                {
                    int o = (m * sb + b) * 128;
                    var bq = (Vector256<int>*)(biasQ + b * 128);
                    Vector256<int> e0 = bq[0], e1 = bq[1], e2 = bq[2], e3 = bq[3];
                    Vector256<int> d0 = e0, d1 = e1, d2 = e2, d3 = e3;
                    sbyte* w = (sbyte*)(wq + b * kh * 512);
                    for (int ky = 0; ky < kh; ky++, w += 512)
                    {
                        byte* r = rows[ky] + o;
                        Both(r, r + far, w, ref e0, ref d0);
                        Both(r + 32, r + far + 32, w + 128, ref e1, ref d1);
                        Both(r + 64, r + far + 64, w + 256, ref e2, ref d2);
                        Both(r + 96, r + far + 96, w + 384, ref e3, ref d3);
                    }
                    float* scale = (float*)(scaleQ + b * 128);
                    T* even = dst + 2 * m * channels + b * 32;
                    Avx.Store((byte*)even, e.Pack<T, TClamp>(e0, e1, e2, e3, scale));
                    Avx.Store((byte*)(even + channels), e.Pack<T, TClamp>(d0, d1, d2, d3, scale));
                }
            }
            if (full * 2 < outWidth)
            {
                for (int b = 0; b < sb; b++)
                {
                    int o = (full * sb + b) * 128;
                    var bq = (Vector256<int>*)(biasQ + b * 128);
                    Vector256<int> e0 = bq[0], e1 = bq[1], e2 = bq[2], e3 = bq[3];
                    sbyte* w = (sbyte*)(wq + b * kh * 512);
                    for (int ky = 0; ky < kh; ky++, w += 512)
                    {
                        byte* r = rows[ky] + o;
                        e0 = Even(r, r + far, w, e0);
                        e1 = Even(r + 32, r + far + 32, w + 128, e1);
                        e2 = Even(r + 64, r + far + 64, w + 256, e2);
                        e3 = Even(r + 96, r + far + 96, w + 384, e3);
                    }
                    Avx.Store((byte*)(dst + 2 * full * channels + b * 32), e.Pack<T, TClamp>(e0, e1, e2, e3, (float*)(scaleQ + b * 128)));
                }
            }
        }

        /// <summary>8 channels of pairs m and m + 1 for one kernel row: quads m .. m + 3, four weight vectors, eight VPDPBUSD.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Two(byte* nearA, byte* nearB, int far, sbyte* w,
            ref Vector256<int> evenA, ref Vector256<int> oddA, ref Vector256<int> evenB, ref Vector256<int> oddB)
        {
            Vector256<sbyte> wn = Avx.LoadVector256(w), wf = Avx.LoadVector256(w + 32), on = Avx.LoadVector256(w + 64), of = Avx.LoadVector256(w + 96);
            Vector256<byte> x = Avx.LoadVector256(nearA), y = Avx.LoadVector256(nearA + far);
            evenA = AvxVnni.MultiplyWideningAndAdd(evenA, x, wn);
            oddA = AvxVnni.MultiplyWideningAndAdd(oddA, x, on);
            evenA = AvxVnni.MultiplyWideningAndAdd(evenA, y, wf);
            oddA = AvxVnni.MultiplyWideningAndAdd(oddA, y, of);
            x = Avx.LoadVector256(nearB); y = Avx.LoadVector256(nearB + far);
            evenB = AvxVnni.MultiplyWideningAndAdd(evenB, x, wn);
            oddB = AvxVnni.MultiplyWideningAndAdd(oddB, x, on);
            evenB = AvxVnni.MultiplyWideningAndAdd(evenB, y, wf);
            oddB = AvxVnni.MultiplyWideningAndAdd(oddB, y, of);
        }

        /// <summary>8 channels of both pixels of a pair for one kernel row: quads m and m + 2, four VPDPBUSD.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Both(byte* near, byte* far, sbyte* w, ref Vector256<int> even, ref Vector256<int> odd)
        {
            Vector256<byte> x = Avx.LoadVector256(near), y = Avx.LoadVector256(far);
            even = AvxVnni.MultiplyWideningAndAdd(even, x, Avx.LoadVector256(w));
            odd = AvxVnni.MultiplyWideningAndAdd(odd, x, Avx.LoadVector256(w + 64));
            even = AvxVnni.MultiplyWideningAndAdd(even, y, Avx.LoadVector256(w + 32));
            odd = AvxVnni.MultiplyWideningAndAdd(odd, y, Avx.LoadVector256(w + 96));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<int> Even(byte* near, byte* far, sbyte* w, Vector256<int> acc)
        {
            acc = AvxVnni.MultiplyWideningAndAdd(acc, Avx.LoadVector256(near), Avx.LoadVector256(w));
            return AvxVnni.MultiplyWideningAndAdd(acc, Avx.LoadVector256(far), Avx.LoadVector256(w + 32));
        }
    }
}
