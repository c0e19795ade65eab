using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// Int8 depthwise convolution for AVX-VNNI with a three-wide kernel at horizontal stride 2 (3x3 s2 and any height up
/// to 7, any vertical stride), no dilation, C a multiple of 32: the MobileNet stride-2 layers.
/// <para>
/// Why: <see cref="DepthwiseConvX86QuadRows"/> builds one quad (x[2 ox], x[2 ox + 1], x[2 ox + 2], 0) per output
/// pixel and input row, so at stride 2 consecutive quads overlap by two pixels and each input row is interleaved
/// twice over, for the 1.5 output rows it feeds. Here quad m of a row is the padded pixels 4m .. 4m + 3, which do not
/// overlap: a row is interleaved once, half the work. Output pixel 2m takes quad m with weights (w0, w1, w2, 0);
/// pixel 2m + 1 (padded pixels 4m + 2 .. 4m + 4) takes quad m with (0, 0, w0, w1) and quad m + 1 with (w2, 0, 0, 0).
/// So a pixel pair costs three VPDPBUSD per kernel row and 8 channels instead of two, for half the interleave and
/// no row copy: quads are built straight from the input, the zero point where they hang over the edge.
/// </para>
/// <para>
/// Two pixel pairs go per step (quads m .. m + 2, the three weight vectors of a kernel row loaded once for six
/// VPDPBUSD); the image goes in channel strips whose KH quad rows stay in L1. The weight preparation, zp * sum(w)
/// folded into the bias, s8 inputs stored as x + 128 and the epilogue are <see cref="DepthwiseConvX86Rows"/>'s.
/// </para>
/// </summary>
internal static unsafe class DepthwiseConvX86StridePairs
{
    private const int MaxKernelHeight = 7, MaxStrideHeight = 4;

    /// <summary>
    /// Shapes this kernel takes; the rest go to <see cref="DepthwiseConvX86QuadRows"/>. Only with EVEX encodings (AVX-512
    /// VL): one pair per step, its third VPDPBUSD per pair and weights read from memory, measured 5-10% slower than the
    /// kernel-row kernel with the JIT's AVX-512 turned off (<c>DOTNET_EnableAVX512=0</c>).
    /// </summary>
    public static bool Handles(in WindowGeometry g, int channels) =>
        TwoPairs && g.KernelWidth == 3 && g.StrideWidth == 2 && g.KernelHeight <= MaxKernelHeight && g.StrideHeight <= MaxStrideHeight
        && g.DilationHeight == 1 && g.DilationWidth == 1
        && channels % 32 == 0 && channels / 32 <= DepthwiseConvX86Rows.MaxPhases;

    public static void Run<T>(in DepthwiseArgs<T> a) where T : unmanaged => DepthwiseConvX86QuadStrips.Run<T, Kernel>(a);

    private readonly struct Kernel : IQuadStripKernel
    {
        public static DepthwiseX86Kernel Kind => DepthwiseX86Kernel.StridePairs;
        public static int KernelWidth => 3;
        // Pixel 2m + 1 reads quads m and m + 1.
        public static int ExtraQuads => 1;
        public static int QuadStep => 4;
        public static int WeightRowBytes => 384;

        public static void PrepareWeights(in DepthwiseX86Scratch scratch, int kh, int blocks, int zp) =>
            DepthwiseConvX86StridePairs.PrepareWeights(scratch, kh, blocks, zp);

        public static void Row<T, TClamp>(byte* wq, byte* biasQ, byte* scaleQ, int kh, int sb, int channels, byte** rows, int outWidth,
            T* dst, in DepthwiseConvX86Rows.Epilogue e) where T : unmanaged where TClamp : struct =>
            new Job(wq, biasQ, scaleQ, kh, sb, channels).Row<T, TClamp>(rows, outWidth, dst, e);
    }

    /// <summary>
    /// Per 32-channel block, kernel row and dword group v, the three weight quads in the order the output loop reads
    /// them: even pixel (w0, w1, w2, 0), odd pixel (0, 0, w0, w1) on quad m and (w2, 0, 0, 0) on quad m + 1. The bias
    /// less zp * sum(w) and the scales in accumulator order (the even quad holds each tap once).
    /// </summary>
    private static void PrepareWeights(in DepthwiseX86Scratch scratch, int kh, int blocks, int zp)
    {
        Vector256<byte> zpBytes = Vector256.Create((byte)zp), zero = Vector256<byte>.Zero;
        int taps = kh * 3;
        for (int b = 0; b < blocks; b++)
        {
            Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default;
            for (int ky = 0; ky < kh; ky++)
            {
                Vector256<byte> w0 = scratch.ExpandedTap(ky * 3, taps, b), w1 = scratch.ExpandedTap(ky * 3 + 1, taps, b);
                Vector256<byte> w2 = scratch.ExpandedTap(ky * 3 + 2, taps, b);
                DepthwiseConvX86Rows.Quads(w0, w1, w2, zero, out var e0, out var e1, out var e2, out var e3);
                DepthwiseConvX86Rows.Quads(zero, zero, w0, w1, out var n0, out var n1, out var n2, out var n3);
                DepthwiseConvX86Rows.Quads(w2, zero, zero, zero, out var f0, out var f1, out var f2, out var f3);
                byte* w = scratch.Weights + (b * kh + ky) * 384;
                Store(w, e0, n0, f0);
                Store(w + 96, e1, n1, f1);
                Store(w + 192, e2, n2, f2);
                Store(w + 288, e3, n3, f3);
                c0 = AvxVnni.MultiplyWideningAndAdd(c0, zpBytes, e0.AsSByte());
                c1 = AvxVnni.MultiplyWideningAndAdd(c1, zpBytes, e1.AsSByte());
                c2 = AvxVnni.MultiplyWideningAndAdd(c2, zpBytes, e2.AsSByte());
                c3 = AvxVnni.MultiplyWideningAndAdd(c3, zpBytes, e3.AsSByte());
            }
            scratch.StoreEpilogue(b, c0, c1, c2, c3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(byte* w, Vector256<byte> a, Vector256<byte> b, Vector256<byte> c)
    {
        Avx.Store(w, a); Avx.Store(w + 32, b); Avx.Store(w + 64, c);
    }

    private static readonly bool TwoPairs = Avx512F.VL.IsSupported;

    /// <summary>One output row of one channel strip.</summary>
    private readonly struct Job(byte* wq, byte* biasQ, byte* scaleQ, int kh, int sb, int channels)
    {
        public void Row<T, TClamp>(byte** rows, int outWidth, T* dst, in DepthwiseConvX86Rows.Epilogue e)
            where T : unmanaged where TClamp : struct
        {
            int full = outWidth / 2, next = sb * 128;
            int m = 0;
            // Two pixel pairs per step: 16 accumulators, in registers only with EVEX encodings (see DepthwiseConvX86PairStrips).
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
                    sbyte* w = (sbyte*)(wq + b * kh * 384);
                    for (int ky = 0; ky < kh; ky++, w += 384)
                    {
                        byte* r = rows[ky] + o;
                        Two(r, next, w, ref e0, ref d0, ref f0, ref g0);
                        Two(r + 32, next, w + 96, ref e1, ref d1, ref f1, ref g1);
                        Two(r + 64, next, w + 192, ref e2, ref d2, ref f2, ref g2);
                        Two(r + 96, next, w + 288, ref e3, ref d3, ref f3, ref g3);
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
                    sbyte* w = (sbyte*)(wq + b * kh * 384);
                    for (int ky = 0; ky < kh; ky++, w += 384)
                    {
                        byte* r = rows[ky] + o;
                        One(r, next, w, ref e0, ref d0);
                        One(r + 32, next, w + 96, ref e1, ref d1);
                        One(r + 64, next, w + 192, ref e2, ref d2);
                        One(r + 96, next, w + 288, ref e3, ref d3);
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
                    sbyte* w = (sbyte*)(wq + b * kh * 384);
                    for (int ky = 0; ky < kh; ky++, w += 384)
                    {
                        byte* r = rows[ky] + o;
                        e0 = AvxVnni.MultiplyWideningAndAdd(e0, Avx.LoadVector256(r), Avx.LoadVector256(w));
                        e1 = AvxVnni.MultiplyWideningAndAdd(e1, Avx.LoadVector256(r + 32), Avx.LoadVector256(w + 96));
                        e2 = AvxVnni.MultiplyWideningAndAdd(e2, Avx.LoadVector256(r + 64), Avx.LoadVector256(w + 192));
                        e3 = AvxVnni.MultiplyWideningAndAdd(e3, Avx.LoadVector256(r + 96), Avx.LoadVector256(w + 288));
                    }
                    Avx.Store((byte*)(dst + 2 * full * channels + b * 32), e.Pack<T, TClamp>(e0, e1, e2, e3, (float*)(scaleQ + b * 128)));
                }
            }
        }

        /// <summary>8 channels of pairs m and m + 1 for one kernel row: quads m .. m + 2, three weight vectors, six VPDPBUSD.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Two(byte* q, int next, sbyte* w,
            ref Vector256<int> evenA, ref Vector256<int> oddA, ref Vector256<int> evenB, ref Vector256<int> oddB)
        {
            Vector256<sbyte> we = Avx.LoadVector256(w), wn = Avx.LoadVector256(w + 32), wf = Avx.LoadVector256(w + 64);
            Vector256<byte> x0 = Avx.LoadVector256(q), x1 = Avx.LoadVector256(q + next), x2 = Avx.LoadVector256(q + 2 * next);
            evenA = AvxVnni.MultiplyWideningAndAdd(evenA, x0, we);
            oddA = AvxVnni.MultiplyWideningAndAdd(oddA, x0, wn);
            evenB = AvxVnni.MultiplyWideningAndAdd(evenB, x1, we);
            oddB = AvxVnni.MultiplyWideningAndAdd(oddB, x1, wn);
            oddA = AvxVnni.MultiplyWideningAndAdd(oddA, x1, wf);
            oddB = AvxVnni.MultiplyWideningAndAdd(oddB, x2, wf);
        }

        /// <summary>8 channels of pair m for one kernel row: quads m and m + 1, three VPDPBUSD.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void One(byte* q, int next, sbyte* w, ref Vector256<int> even, ref Vector256<int> odd)
        {
            Vector256<byte> x0 = Avx.LoadVector256(q);
            even = AvxVnni.MultiplyWideningAndAdd(even, x0, Avx.LoadVector256(w));
            odd = AvxVnni.MultiplyWideningAndAdd(odd, x0, Avx.LoadVector256(w + 32));
            odd = AvxVnni.MultiplyWideningAndAdd(odd, Avx.LoadVector256(q + next), Avx.LoadVector256(w + 64));
        }
    }
}
