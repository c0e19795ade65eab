using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// Int8 depthwise convolution for AVX-VNNI, stride 1, no dilation, kernel width up to 3 (any height up to 7),
/// C a multiple of 16: the 16-channel MobileNet layer (3x3, C = 16 at 112x112) and the C = 48, 144 ones. It is
/// <see cref="DepthwiseConvX86PixelPairs"/>'s idea (one input quad serves two neighbouring output pixels) on
/// 16-channel units with one pixel pair per 128-bit lane, so it needs no 32-channel blocks.
/// <para>
/// Why: for pixel pair p the input quad (x[2p], x[2p + 1], x[2p + 2], x[2p + 3]) holds the taps of both pixels:
/// weights (w0, w1, w2, 0) give the even pixel 2p, (0, w0, w1, w2) the odd one. Each kernel row then costs one
/// VPDPBUSD per pixel and 4 channels with no shuffle in the loop, and the quads are built once per input row at
/// even pixels only: half the interleave work of <see cref="DepthwiseConvX86QuadRows"/>, whose quads start at
/// every pixel (for C = 16 a 32-byte block is two pixels).
/// </para>
/// <para>
/// Layout: a 16-channel quad is 64 bytes, so a quad row keeps, per 16-channel unit u and dword group v (channels
/// 4v .. 4v + 3 of the unit), one 16-byte quad per pixel pair, pairs consecutive. A 32-byte load at pair 2m then
/// holds pairs 2m and 2m + 1, one per lane: a column of four output pixels. The weights are the same in both
/// lanes (duplicated when prepared); the requantized lanes are pixels 4m and 4m + 2 (even accumulators) and
/// 4m + 1 and 4m + 3 (odd), stored 16 bytes each. The last column of a row whose width is not a multiple of 4
/// computes pixels it does not store, so narrow rows (the 14x14 layers) stay with the other kernels.
/// </para>
/// <para>
/// Everything else is <see cref="DepthwiseConvX86Rows"/>'s: input rows copied once into a slot padded with the
/// zero point, zp * sum(w) folded into the bias, s8 inputs stored as x + 128, the shared epilogue.
/// </para>
/// </summary>
internal static unsafe class DepthwiseConvX86LanePairs
{
    private const int MaxKernelHeight = 7, MaxKernelWidth = 3;

    /// <summary>Shapes this kernel takes; the rest go to <see cref="DepthwiseConvX86QuadRows"/> and <see cref="DepthwiseConvX86Rows"/>.</summary>
    public static bool Handles(in WindowGeometry g, int channels) =>
        g.StrideHeight == 1 && g.StrideWidth == 1 && g.DilationHeight == 1 && g.DilationWidth == 1
        && g.KernelHeight <= MaxKernelHeight && g.KernelWidth <= MaxKernelWidth && channels % 16 == 0
        && (g.OutputWidth % 4 == 0 || g.OutputWidth >= 32);

    public static void Run<T>(in DepthwiseArgs<T> a) where T : unmanaged
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, units = channels / 16, kh = g.KernelHeight, kw = g.KernelWidth, taps = kh * kw;
        int outWidth = g.OutputWidth, columns = (outWidth + 3) / 4;
        // Pairs 0 .. 2 columns - 1 are read; built two at a time.
        int builtPairs = 2 * columns;
        int planeBytes = builtPairs * 16, unitBytes = 4 * planeBytes, quadRowBytes = DepthwiseX86Scratch.Align(units * unitBytes);
        int zpStripBytes = DepthwiseX86Scratch.Align(channels);
        bool flip = typeof(T) == typeof(sbyte);
        int zpStored = a.InputZeroPoint + (flip ? 128 : 0);

        int weightBytes = units * kh * 256;
        // Later calls of a node read what its first call prepared (weights interleaved, zp * sum(w) in the bias).
        DepthwiseX86Prepared? ready = DepthwiseX86Prepared.Find(a.Packed, DepthwiseX86Kernel.LanePairs, g, zpStored, a.Bias, a.Scales, DepthwiseX86Scratch.PreparedSize(weightBytes, units));
        int rest = zpStripBytes + (kh + 1) * quadRowBytes;
        byte[] rented = ArrayPool<byte>.Shared.Rent(DepthwiseX86Scratch.Bytes(weightBytes, units, 0, 0, rest));
        try
        {
            fixed (byte* raw = rented)
            fixed (T* input = a.Input)
            fixed (sbyte* weights = a.Weights)
            fixed (int* bias = a.Bias)
            fixed (float* scales = a.Scales)
            fixed (T* output = a.Destination)
            {
                var scratch = new DepthwiseX86Scratch(raw, weightBytes, units, 0, 0, ready is null ? null : ready.Start);
                byte* zpRaw = scratch.Rest, padQuads = zpRaw + zpStripBytes, quads = padQuads + quadRowBytes;

                bool fits = DepthwiseX86Prepared.PrepareOrReuse(ready, a, DepthwiseX86Kernel.LanePairs, zpStored, scratch, weights, taps, bias, scales,
                    new Preparation(weights, kh, kw, channels, zpStored, bias, a.Bias.IsEmpty, scales));
                // Pixels past the row's ends read this instead of the input: XOR-ed like an input byte it is the stored zero point.
                Unsafe.InitBlockUnaligned(zpRaw, (byte)a.InputZeroPoint, (uint)channels);
                // A padding row is the zero point everywhere; its weights' share is already in the bias.
                Unsafe.InitBlockUnaligned(padQuads, (byte)zpStored, (uint)quadRowBytes);
                Span<int> slotRow = stackalloc int[kh];
                slotRow.Fill(-1);
                byte** rows = stackalloc byte*[kh];
                var epilogue = new DepthwiseConvX86Rows.Epilogue(Requantization.Bounds(a.Output).Hi, a.Output.ZeroPoint, a.Output.Min, a.Output.Max);
                int inRowBytes = g.InputWidth * channels;
                var builder = new QuadBuilder(g.InputWidth, channels, g.PadLeft, units, builtPairs, planeBytes, unitBytes, zpRaw);
                var job = new Job(scratch.Weights, scratch.Bias, scratch.Scales, units, unitBytes, kh, outWidth, channels);

                for (int oy = a.RowStart; oy < a.RowEnd; oy++)
                {
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = oy - g.PadTop + ky;
                        if ((uint)iy >= (uint)g.InputHeight) { rows[ky] = padQuads; continue; }
                        int s = iy % kh;
                        byte* quadRow = quads + s * quadRowBytes;
                        if (slotRow[s] != iy)
                        {
                            builder.Build<T>((byte*)(input + iy * inRowBytes), quadRow);
                            slotRow[s] = iy;
                        }
                        rows[ky] = quadRow;
                    }
                    T* dst = output + oy * outWidth * channels;
                    if (fits) job.Row<T, DepthwiseConvX86Rows.SkipHighClamp>(rows, dst, epilogue);
                    else job.Row<T, DepthwiseConvX86Rows.ClampHigh>(rows, dst, epilogue);
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// Per unit, kernel row and parity (even, odd): the four weight vectors, each holding the dwords of 4 channels'
    /// taps (w0, w1, w2, 0) or (0, w0, w1, w2) in both lanes (taps past KW are zero). Then, per unit, the bias less
    /// zp * sum(w) and the scales, both in accumulator order (dword group v, both lanes).
    /// </summary>
    /// <summary>Reads the weights, bias and scales directly (no period copies: a unit is whole channels).</summary>
    private readonly struct Preparation(sbyte* weights, int kh, int kw, int channels, int zp, int* bias, bool noBias, float* scales) : IDepthwiseX86Preparation
    {
        public bool Expands => false;
        public void Prepare(in DepthwiseX86Scratch scratch) =>
            DepthwiseConvX86LanePairs.Prepare(weights, kh, kw, channels, zp, bias, noBias, scales, scratch);
    }

    private static void Prepare(sbyte* weights, int kh, int kw, int channels, int zp, int* bias, bool noBias,
        float* scales, in DepthwiseX86Scratch scratch)
    {
        int units = channels / 16;
        Vector256<byte> zpBytes = Vector256.Create((byte)zp), zero = Vector256<byte>.Zero;
        for (int u = 0; u < units; u++)
        {
            Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default;
            for (int ky = 0; ky < kh; ky++)
            {
                sbyte* row = weights + ky * kw * channels + u * 16;
                Vector256<byte> w0 = Tap(row, 0, kw, channels), w1 = Tap(row, 1, kw, channels), w2 = Tap(row, 2, kw, channels);
                DepthwiseConvX86Rows.Quads(w0, w1, w2, zero, out var e0, out var e1, out var e2, out var e3);
                DepthwiseConvX86Rows.Quads(zero, w0, w1, w2, out var o0, out var o1, out var o2, out var o3);
                byte* even = scratch.Weights + (u * kh + ky) * 256, odd = even + 128;
                Avx.Store(even, e0); Avx.Store(even + 32, e1); Avx.Store(even + 64, e2); Avx.Store(even + 96, e3);
                Avx.Store(odd, o0); Avx.Store(odd + 32, o1); Avx.Store(odd + 64, o2); Avx.Store(odd + 96, o3);
                c0 = AvxVnni.MultiplyWideningAndAdd(c0, zpBytes, e0.AsSByte());
                c1 = AvxVnni.MultiplyWideningAndAdd(c1, zpBytes, e1.AsSByte());
                c2 = AvxVnni.MultiplyWideningAndAdd(c2, zpBytes, e2.AsSByte());
                c3 = AvxVnni.MultiplyWideningAndAdd(c3, zpBytes, e3.AsSByte());
            }
            var bq = (Vector256<int>*)(scratch.Bias + u * 128);
            var sq = (Vector256<float>*)(scratch.Scales + u * 128);
            bq[0] = Avx2.Subtract(noBias ? Vector256<int>.Zero : Duplicated(bias + u * 16), c0);
            bq[1] = Avx2.Subtract(noBias ? Vector256<int>.Zero : Duplicated(bias + u * 16 + 4), c1);
            bq[2] = Avx2.Subtract(noBias ? Vector256<int>.Zero : Duplicated(bias + u * 16 + 8), c2);
            bq[3] = Avx2.Subtract(noBias ? Vector256<int>.Zero : Duplicated(bias + u * 16 + 12), c3);
            for (int v = 0; v < 4; v++) sq[v] = Duplicated((int*)scales + u * 16 + 4 * v).AsSingle();
        }
    }

    /// <summary>The unit's 16 weights of tap kx of a kernel row, in both lanes; zero past KW.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Tap(sbyte* row, int kx, int kw, int channels)
    {
        if (kx >= kw) return Vector256<byte>.Zero;
        Vector128<byte> x = Sse2.LoadVector128((byte*)(row + kx * channels));
        return Vector256.Create(x, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Duplicated(int* four)
    {
        Vector128<int> x = Sse2.LoadVector128(four);
        return Vector256.Create(x, x);
    }

    /// <summary>
    /// Builds an input row's quad row straight from the input (no padded copy of the row): for unit u, dword group v
    /// and pixel pair p, the 16 bytes of quads (x[2p], x[2p + 1], x[2p + 2], x[2p + 3]) of channels 16 u + 4 v .. + 3,
    /// in padded pixels; two pairs per step, one per lane. Pixels outside the row read a strip of the raw zero point.
    /// </summary>
    private readonly struct QuadBuilder(int width, int channels, int padLeft, int units, int pairs, int planeBytes, int unitBytes, byte* zpRaw)
    {
        public void Build<T>(byte* row, byte* quadRow) where T : unmanaged
        {
            int c = channels;
            for (int u = 0; u < units; u++)
            {
                byte* plane = quadRow + u * unitBytes;
                for (int p = 0; p < pairs; p += 2)
                {
                    // Lane 0: padded pixels 2p .. 2p + 3; lane 1: 2p + 2 .. 2p + 5.
                    int ix = 2 * p - padLeft;
                    Vector256<byte> a, b, cc, d;
                    if (ix >= 0 && ix + 5 < width)
                    {
                        byte* x = row + ix * c + u * 16;
                        if (c == 16)
                        {
                            // One unit: a 32-byte load is two neighbouring pixels, so the lanes come from three loads.
                            Vector256<byte> x01 = Avx.LoadVector256(x), x23 = Avx.LoadVector256(x + 32), x45 = Avx.LoadVector256(x + 64);
                            a = Avx2.Permute2x128(x01, x23, 0x20);
                            b = Avx2.Permute2x128(x01, x23, 0x31);
                            cc = Avx2.Permute2x128(x23, x45, 0x20);
                            d = Avx2.Permute2x128(x23, x45, 0x31);
                        }
                        else
                        {
                            Vector128<byte> x0 = Sse2.LoadVector128(x), x1 = Sse2.LoadVector128(x + c), x2 = Sse2.LoadVector128(x + 2 * c);
                            Vector128<byte> x3 = Sse2.LoadVector128(x + 3 * c), x4 = Sse2.LoadVector128(x + 4 * c), x5 = Sse2.LoadVector128(x + 5 * c);
                            a = Vector256.Create(x0, x2); b = Vector256.Create(x1, x3); cc = Vector256.Create(x2, x4); d = Vector256.Create(x3, x5);
                        }
                    }
                    else
                    {
                        int o = u * 16;
                        Vector128<byte> x0 = Sse2.LoadVector128(Pixel(row, ix) + o), x1 = Sse2.LoadVector128(Pixel(row, ix + 1) + o);
                        Vector128<byte> x2 = Sse2.LoadVector128(Pixel(row, ix + 2) + o), x3 = Sse2.LoadVector128(Pixel(row, ix + 3) + o);
                        Vector128<byte> x4 = Sse2.LoadVector128(Pixel(row, ix + 4) + o), x5 = Sse2.LoadVector128(Pixel(row, ix + 5) + o);
                        a = Vector256.Create(x0, x2); b = Vector256.Create(x1, x3); cc = Vector256.Create(x2, x4); d = Vector256.Create(x3, x5);
                    }
                    if (typeof(T) == typeof(sbyte))
                    {
                        // s8 inputs are stored as x + 128 (the weights' zp * sum(w) is taken with that zero point).
                        Vector256<byte> m = Vector256.Create((byte)0x80);
                        a = Avx2.Xor(a, m); b = Avx2.Xor(b, m); cc = Avx2.Xor(cc, m); d = Avx2.Xor(d, m);
                    }
                    DepthwiseConvX86Rows.Quads(a, b, cc, d, out var q0, out var q1, out var q2, out var q3);
                    byte* dq = plane + p * 16;
                    Avx.Store(dq, q0); Avx.Store(dq + planeBytes, q1); Avx.Store(dq + 2 * planeBytes, q2); Avx.Store(dq + 3 * planeBytes, q3);
                }
            }
        }

        /// <summary>Input pixel ix of the row, or (outside the row) the strip of raw zero-point bytes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private byte* Pixel(byte* row, int ix) => (uint)ix < (uint)width ? row + ix * channels : zpRaw;
    }

    private static readonly bool TwoColumns = Avx512F.VL.IsSupported;

    /// <summary>The per-call constants of the row loop.</summary>
    private readonly struct Job(byte* wq, byte* biasQ, byte* scaleQ, int units, int unitBytes, int kh, int outWidth, int channels)
    {
        public void Row<T, TClamp>(byte** rows, T* dst, in DepthwiseConvX86Rows.Epilogue e)
            where T : unmanaged where TClamp : struct
        {
            int planeBytes = unitBytes / 4, fullColumns = outWidth / 4;
            for (int u = 0; u < units; u++)
            {
                sbyte* wu = (sbyte*)(wq + u * kh * 256);
                var bq = (Vector256<int>*)(biasQ + u * 128);
                float* scale = (float*)(scaleQ + u * 128);
                int unitOffset = u * unitBytes;
                T* du = dst + u * 16;
                int m = 0;
                // Two columns per step: each weight vector loaded once feeds two VPDPBUSD. That takes 16 accumulators, in
                // registers only with EVEX encodings (see DepthwiseConvX86PairStrips); other cores take one column per step.
                for (; TwoColumns && m + 1 < fullColumns; m += 2)
                {
                    Columns(rows, unitOffset + 32 * m, planeBytes, wu, bq, out var evensA, out var oddsA, out var evensB, out var oddsB);
                    T* d = du + 4 * m * channels;
                    StorePixels<T, TClamp>(evensA, oddsA, scale, d, e, 4);
                    StorePixels<T, TClamp>(evensB, oddsB, scale, d + 4 * channels, e, 4);
                }
                for (; m < fullColumns; m++)
                {
                    Column(rows, unitOffset + 32 * m, planeBytes, wu, bq, out var evens, out var odds);
                    T* d = du + 4 * m * channels;
                    StorePixels<T, TClamp>(evens, odds, scale, d, e, 4);
                }
                if (fullColumns * 4 < outWidth)
                {
                    Column(rows, unitOffset + 32 * fullColumns, planeBytes, wu, bq, out var evens, out var odds);
                    StorePixels<T, TClamp>(evens, odds, scale, du + 4 * fullColumns * channels, e, outWidth - 4 * fullColumns);
                }
            }
        }

        /// <summary>The accumulators of a column of four pixels: lanes 0 and 1 of the even set are pixels 4m and 4m + 2, of the odd set 4m + 1 and 4m + 3.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Column(byte** rows, int offset, int planeBytes, sbyte* w, Vector256<int>* bq, out Accumulators evens, out Accumulators odds)
        {
            Vector256<int> e0 = bq[0], e1 = bq[1], e2 = bq[2], e3 = bq[3];
            Vector256<int> o0 = e0, o1 = e1, o2 = e2, o3 = e3;
            for (int ky = 0; ky < kh; ky++, w += 256)
            {
                byte* q = rows[ky] + offset;
                Vector256<byte> x = Avx.LoadVector256(q);
                e0 = AvxVnni.MultiplyWideningAndAdd(e0, x, Avx.LoadVector256(w));
                o0 = AvxVnni.MultiplyWideningAndAdd(o0, x, Avx.LoadVector256(w + 128));
                x = Avx.LoadVector256(q + planeBytes);
                e1 = AvxVnni.MultiplyWideningAndAdd(e1, x, Avx.LoadVector256(w + 32));
                o1 = AvxVnni.MultiplyWideningAndAdd(o1, x, Avx.LoadVector256(w + 160));
                x = Avx.LoadVector256(q + 2 * planeBytes);
                e2 = AvxVnni.MultiplyWideningAndAdd(e2, x, Avx.LoadVector256(w + 64));
                o2 = AvxVnni.MultiplyWideningAndAdd(o2, x, Avx.LoadVector256(w + 192));
                x = Avx.LoadVector256(q + 3 * planeBytes);
                e3 = AvxVnni.MultiplyWideningAndAdd(e3, x, Avx.LoadVector256(w + 96));
                o3 = AvxVnni.MultiplyWideningAndAdd(o3, x, Avx.LoadVector256(w + 224));
            }
            evens = new Accumulators(e0, e1, e2, e3);
            odds = new Accumulators(o0, o1, o2, o3);
        }

        /// <summary>Two neighbouring columns (<paramref name="offset"/> and 32 bytes on), the weights of a kernel row loaded once for both.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void Columns(byte** rows, int offset, int planeBytes, sbyte* w, Vector256<int>* bq,
            out Accumulators evensA, out Accumulators oddsA, out Accumulators evensB, out Accumulators oddsB)
        {
            Vector256<int> e0 = bq[0], e1 = bq[1], e2 = bq[2], e3 = bq[3];
            Vector256<int> o0 = e0, o1 = e1, o2 = e2, o3 = e3;
            Vector256<int> f0 = e0, f1 = e1, f2 = e2, f3 = e3;
            Vector256<int> g0 = e0, g1 = e1, g2 = e2, g3 = e3;
            for (int ky = 0; ky < kh; ky++, w += 256)
            {
                byte* q = rows[ky] + offset;
                Vector256<sbyte> we = Avx.LoadVector256(w), wo = Avx.LoadVector256(w + 128);
                Vector256<byte> x = Avx.LoadVector256(q), y = Avx.LoadVector256(q + 32);
                e0 = AvxVnni.MultiplyWideningAndAdd(e0, x, we); o0 = AvxVnni.MultiplyWideningAndAdd(o0, x, wo);
                f0 = AvxVnni.MultiplyWideningAndAdd(f0, y, we); g0 = AvxVnni.MultiplyWideningAndAdd(g0, y, wo);
                we = Avx.LoadVector256(w + 32); wo = Avx.LoadVector256(w + 160);
                x = Avx.LoadVector256(q + planeBytes); y = Avx.LoadVector256(q + planeBytes + 32);
                e1 = AvxVnni.MultiplyWideningAndAdd(e1, x, we); o1 = AvxVnni.MultiplyWideningAndAdd(o1, x, wo);
                f1 = AvxVnni.MultiplyWideningAndAdd(f1, y, we); g1 = AvxVnni.MultiplyWideningAndAdd(g1, y, wo);
                we = Avx.LoadVector256(w + 64); wo = Avx.LoadVector256(w + 192);
                x = Avx.LoadVector256(q + 2 * planeBytes); y = Avx.LoadVector256(q + 2 * planeBytes + 32);
                e2 = AvxVnni.MultiplyWideningAndAdd(e2, x, we); o2 = AvxVnni.MultiplyWideningAndAdd(o2, x, wo);
                f2 = AvxVnni.MultiplyWideningAndAdd(f2, y, we); g2 = AvxVnni.MultiplyWideningAndAdd(g2, y, wo);
                we = Avx.LoadVector256(w + 96); wo = Avx.LoadVector256(w + 224);
                x = Avx.LoadVector256(q + 3 * planeBytes); y = Avx.LoadVector256(q + 3 * planeBytes + 32);
                e3 = AvxVnni.MultiplyWideningAndAdd(e3, x, we); o3 = AvxVnni.MultiplyWideningAndAdd(o3, x, wo);
                f3 = AvxVnni.MultiplyWideningAndAdd(f3, y, we); g3 = AvxVnni.MultiplyWideningAndAdd(g3, y, wo);
            }
            evensA = new Accumulators(e0, e1, e2, e3);
            oddsA = new Accumulators(o0, o1, o2, o3);
            evensB = new Accumulators(f0, f1, f2, f3);
            oddsB = new Accumulators(g0, g1, g2, g3);
        }

        /// <summary>Requantizes a column and stores its first <paramref name="count"/> pixels (16 channels each).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private void StorePixels<T, TClamp>(in Accumulators evens, in Accumulators odds, float* scale, T* d, in DepthwiseConvX86Rows.Epilogue e, int count)
            where T : unmanaged where TClamp : struct
        {
            Vector256<byte> even = e.Pack<T, TClamp>(evens.A0, evens.A1, evens.A2, evens.A3, scale);
            Vector256<byte> odd = e.Pack<T, TClamp>(odds.A0, odds.A1, odds.A2, odds.A3, scale);
            int c = channels;
            if (count == 4)
            {
                Sse2.Store((byte*)d, even.GetLower());
                Sse2.Store((byte*)(d + c), odd.GetLower());
                Sse2.Store((byte*)(d + 2 * c), even.GetUpper());
                Sse2.Store((byte*)(d + 3 * c), odd.GetUpper());
                return;
            }
            // The row's last, partial column: pixels past the row are not written.
            Sse2.Store((byte*)d, even.GetLower());
            if (count > 1) Sse2.Store((byte*)(d + c), odd.GetLower());
            if (count > 2) Sse2.Store((byte*)(d + 2 * c), even.GetUpper());
        }
    }

    private readonly struct Accumulators(Vector256<int> a0, Vector256<int> a1, Vector256<int> a2, Vector256<int> a3)
    {
        public readonly Vector256<int> A0 = a0, A1 = a1, A2 = a2, A3 = a3;
    }
}
