using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// Int8 depthwise convolution for AVX-VNNI with three kernel rows (3x3, 3x1, 3x2, 3x4; the MobileNet case), no
/// dilation, stride 1 or any stride when C is a multiple of 32. It is <see cref="DepthwiseConvX86Rows"/> with
/// the taps grouped by kernel row instead of in flat fours.
/// <para>
/// Why: grouping a tap quad interleaves four input rows' bytes (8 shuffles per 32 output bytes and quad), and
/// with flat groups the quad depends on the output row, so every input row is interleaved again for each of
/// the three output rows it feeds. Grouped by kernel row, quad (kx = 0..3) of output byte j depends only on
/// the input row: it is built once per input row into a "quad row" (for output byte j, the dwords
/// (x[j], x[j + C], x[j + 2C], x[j + 3C]) in VPDPBUSD order, taps past KW multiplying a zero weight), and
/// every output row then costs one VPDPBUSD per kernel row and 8 output bytes, no shuffles at all.
/// Output rows are computed two at a time so the three kernel rows' weights stay in registers and, for stride
/// 1, the input quads shared by both rows are loaded once.
/// </para>
/// <para>
/// The byte-to-weight mapping is <see cref="DepthwiseConvX86Rows"/>'s: output byte j is channel j mod C; with
/// stride 1 the input of tap kx is byte j + kx C of the padded row; with stride s it is byte
/// (s ox + kx) C + c, which for C a multiple of 32 is one 32-byte load per output block too. The zero point is
/// folded into the bias, s8 inputs stored as x + 128, and the epilogue is the shared one.
/// </para>
/// </summary>
internal static unsafe class DepthwiseConvX86QuadRows
{
    private const int MaxStride = 4;

    /// <summary>Shapes this kernel takes; the rest go to <see cref="DepthwiseConvX86Rows"/>.</summary>
    public static bool Handles(in WindowGeometry g, int channels) =>
        g.KernelHeight == 3 && g.KernelWidth <= 4 && g.DilationHeight == 1 && g.DilationWidth == 1
        && g.StrideHeight <= MaxStride && (g.StrideWidth == 1 || channels % 32 == 0)
        && DepthwiseConvX86Rows.Phases(channels) <= DepthwiseConvX86Rows.MaxPhases;

    public static void Run<T>(in DepthwiseArgs<T> a) where T : unmanaged
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, kw = g.KernelWidth, taps = 3 * kw;
        int sh = g.StrideHeight, sw = g.StrideWidth;
        int phases = DepthwiseConvX86Rows.Phases(channels), period = phases * 32;
        int outWidth = g.OutputWidth, rowBytes = outWidth * channels, blocks = (rowBytes + 31) / 32;
        int paddedPixels = Math.Max(g.PadLeft + g.InputWidth, (outWidth - 1) * sw + kw);
        int slotBytes = DepthwiseX86Scratch.Align(paddedPixels * channels + 32 + 3 * channels);
        int quadBytes = blocks * 128, ring = sh + 3;
        bool flip = typeof(T) == typeof(sbyte);
        int zpStored = a.InputZeroPoint + (flip ? 128 : 0);

        int weightBytes = phases * 3 * 128;
        // Later calls of a node read what its first call prepared (weights interleaved, zp * sum(w) in the bias).
        DepthwiseX86Prepared? ready = DepthwiseX86Prepared.Find(a.Packed, DepthwiseX86Kernel.QuadRows, g, zpStored, a.Bias, a.Scales, DepthwiseX86Scratch.PreparedSize(weightBytes, phases));
        byte[] rented = ArrayPool<byte>.Shared.Rent(DepthwiseX86Scratch.Bytes(weightBytes, phases, taps, period, slotBytes + (ring + 1) * quadBytes + 64));
        try
        {
            fixed (byte* raw = rented)
            fixed (T* input = a.Input)
            fixed (sbyte* weights = a.Weights)
            fixed (int* bias = a.Bias)
            fixed (float* scales = a.Scales)
            fixed (T* output = a.Destination)
            {
                var scratch = new DepthwiseX86Scratch(raw, weightBytes, phases, taps, period, ready is null ? null : ready.Start);
                byte* wq = scratch.Weights, biasQ = scratch.Bias, scaleQ = scratch.Scales;
                byte* slot = scratch.Rest, padQuad = slot + slotBytes, quads = padQuad + quadBytes, tail = quads + ring * quadBytes;

                bool fits = DepthwiseX86Prepared.PrepareOrReuse(ready, a, DepthwiseX86Kernel.QuadRows, zpStored, scratch, weights, taps, bias, scales,
                    new Preparation(kw, phases, zpStored));
                // A padding row is the zero point everywhere; its weights' share is already in the bias.
                Unsafe.InitBlockUnaligned(padQuad, (byte)zpStored, (uint)quadBytes);

                Span<int> ringRow = stackalloc int[ring];
                ringRow.Fill(-1);
                var epilogue = new DepthwiseConvX86Rows.Epilogue(Requantization.Bounds(a.Output).Hi, a.Output.ZeroPoint, a.Output.Min, a.Output.Max);
                var rows = new RowSource(input, g, channels, kw, slot, slotBytes, quads, quadBytes, padQuad, ring, (byte)zpStored, flip, blocks);
                if (fits) Rows(new Job<T, DepthwiseConvX86Rows.SkipHighClamp>(phases, wq, biasQ, scaleQ, blocks, rowBytes, (T*)tail, epilogue), rows, ringRow, g, a.RowStart, a.RowEnd, output, rowBytes);
                else Rows(new Job<T, DepthwiseConvX86Rows.ClampHigh>(phases, wq, biasQ, scaleQ, blocks, rowBytes, (T*)tail, epilogue), rows, ringRow, g, a.RowStart, a.RowEnd, output, rowBytes);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Output rows [rowStart, rowEnd): in pairs, then the odd last one.</summary>
    private static void Rows<T, TClamp>(Job<T, TClamp> job, RowSource rows, Span<int> ringRow, in WindowGeometry g, int rowStart, int rowEnd,
        T* output, int rowBytes) where T : unmanaged where TClamp : struct
    {
        int sh = g.StrideHeight;

        int oy = rowStart;
        for (; oy + 1 < rowEnd; oy += 2)
        {
            int iy0 = oy * sh - g.PadTop;
            T* dst = output + oy * rowBytes;
            if (sh == 1)
            {
                byte* r0 = rows.Get(iy0, ringRow), r1 = rows.Get(iy0 + 1, ringRow);
                byte* r2 = rows.Get(iy0 + 2, ringRow), r3 = rows.Get(iy0 + 3, ringRow);
                job.PairStride1(r0, r1, r2, r3, dst, dst + rowBytes);
            }
            else
            {
                byte* a0 = rows.Get(iy0, ringRow), a1 = rows.Get(iy0 + 1, ringRow), a2 = rows.Get(iy0 + 2, ringRow);
                byte* b0 = rows.Get(iy0 + sh, ringRow), b1 = rows.Get(iy0 + sh + 1, ringRow), b2 = rows.Get(iy0 + sh + 2, ringRow);
                job.Pair(a0, a1, a2, b0, b1, b2, dst, dst + rowBytes);
            }
        }
        if (oy < rowEnd)
        {
            int iy0 = oy * sh - g.PadTop;
            byte* r0 = rows.Get(iy0, ringRow), r1 = rows.Get(iy0 + 1, ringRow), r2 = rows.Get(iy0 + 2, ringRow);
            job.Single(r0, r1, r2, output + oy * rowBytes);
        }
    }

    /// <summary>
    /// Per phase and kernel row, the weight quads (kx = 0..3, zero past KW) in the order the input quads are
    /// built; the bias less zp * sum(w) and the scales in accumulator order.
    /// </summary>
    private readonly struct Preparation(int kw, int phases, int zp) : IDepthwiseX86Preparation
    {
        public bool Expands => true;
        public void Prepare(in DepthwiseX86Scratch scratch) => PrepareRows(scratch, kw, phases, zp);
    }

    private static void PrepareRows(in DepthwiseX86Scratch scratch, int kw, int phases, int zp)
    {
        Vector256<byte> zpBytes = Vector256.Create((byte)zp);
        for (int ph = 0; ph < phases; ph++)
        {
            Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default;
            for (int ky = 0; ky < 3; ky++)
            {
                DepthwiseConvX86Rows.Quads(Tap(scratch, ky, 0, kw, ph), Tap(scratch, ky, 1, kw, ph),
                    Tap(scratch, ky, 2, kw, ph), Tap(scratch, ky, 3, kw, ph),
                    out var q0, out var q1, out var q2, out var q3);
                byte* w = scratch.Weights + (ph * 3 + ky) * 128;
                Avx.Store(w, q0); Avx.Store(w + 32, q1); Avx.Store(w + 64, q2); Avx.Store(w + 96, q3);
                c0 = AvxVnni.MultiplyWideningAndAdd(c0, zpBytes, q0.AsSByte());
                c1 = AvxVnni.MultiplyWideningAndAdd(c1, zpBytes, q1.AsSByte());
                c2 = AvxVnni.MultiplyWideningAndAdd(c2, zpBytes, q2.AsSByte());
                c3 = AvxVnni.MultiplyWideningAndAdd(c3, zpBytes, q3.AsSByte());
            }
            scratch.StoreEpilogue(ph, c0, c1, c2, c3);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Tap(in DepthwiseX86Scratch scratch, int ky, int kx, int kw, int ph) =>
        kx < kw ? scratch.ExpandedTap(ky * kw + kx, int.MaxValue, ph) : Vector256<byte>.Zero;

    /// <summary>The quad rows of the input, built on first use into a ring keyed by input row.</summary>
    private readonly struct RowSource
    {
        private readonly byte* _input, _slot, _quads, _padQuad;
        private readonly int _height, _width, _channels, _kw, _padLeft, _stride, _outWidth, _slotBytes, _quadBytes, _ring, _blocks;
        private readonly byte _zp;
        private readonly bool _flip;

        public RowSource(void* input, in WindowGeometry g, int channels, int kw, byte* slot, int slotBytes, byte* quads, int quadBytes,
            byte* padQuad, int ring, byte zp, bool flip, int blocks)
        {
            _input = (byte*)input; _slot = slot; _quads = quads; _padQuad = padQuad;
            _height = g.InputHeight; _width = g.InputWidth; _channels = channels; _kw = kw; _padLeft = g.PadLeft;
            _stride = g.StrideWidth; _outWidth = g.OutputWidth; _slotBytes = slotBytes; _quadBytes = quadBytes;
            _ring = ring; _zp = zp; _flip = flip; _blocks = blocks;
        }

        public byte* Get(int iy, Span<int> ringRow)
        {
            if ((uint)iy >= (uint)_height) return _padQuad;
            int s = iy % _ring;
            byte* quad = _quads + s * _quadBytes;
            if (ringRow[s] != iy)
            {
                Build(iy, quad);
                ringRow[s] = iy;
            }
            return quad;
        }

        private void Build(int iy, byte* quad)
        {
            int c = _channels;
            byte* row = _input + iy * _width * c;
            bool k2 = _kw > 1, k3 = _kw > 2, k4 = _kw > 3;
            if (_stride == 1)
            {
                DepthwiseConvX86Rows.FillSlot(_slot, row, _width, c, _padLeft, 1, _slotBytes, _slotBytes, _zp, _flip);
                for (int b = 0; b < _blocks; b++)
                    Interleave(_slot + b * 32, c, k2, k3, k4, false, quad + b * 128);
                return;
            }
            // C is a multiple of 32: each output block lies in one pixel, whose window starts s pixels after the last.
            // Windows inside the row are interleaved straight from the input: copying the whole row into a padded
            // slot first cost a third of the build (each input row feeds only 1.5 output rows at stride 2). Only
            // the border windows get a zero-point-padded copy of their own KW pixels.
            int step = _stride * c, b2 = 0;
            for (int ox = 0, start = -_padLeft; ox < _outWidth; ox++, start += _stride)
            {
                bool inside = start >= 0 && start + _kw <= _width;
                byte* src = inside ? row + start * c : FillWindow(row, start);
                bool flip = inside && _flip;
                for (int j = 0; j < c; j += 32, b2++)
                    Interleave(src + j, c, k2, k3, k4, flip, quad + b2 * 128);
            }
        }

        /// <summary>The KW pixels from input pixel <paramref name="start"/> on, the zero point outside the row, s8 stored as x + 128.</summary>
        private byte* FillWindow(byte* row, int start)
        {
            int c = _channels;
            for (int kx = 0; kx < _kw; kx++)
            {
                int ix = start + kx;
                if ((uint)ix < (uint)_width) DepthwiseConvX86Rows.Copy(_slot + kx * c, row + ix * c, c, _flip);
                else Unsafe.InitBlockUnaligned(_slot + kx * c, _zp, (uint)c);
            }
            return _slot;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Interleave(byte* src, int c, bool k2, bool k3, bool k4, bool flip, byte* dst)
        {
            // Taps past KW get any bytes (their weights are zero); zeros keep the build simple.
            Vector256<byte> zero = Vector256<byte>.Zero;
            Vector256<byte> a = Avx.LoadVector256(src), b = k2 ? Avx.LoadVector256(src + c) : zero;
            Vector256<byte> d = k3 ? Avx.LoadVector256(src + 2 * c) : zero, e = k4 ? Avx.LoadVector256(src + 3 * c) : zero;
            if (flip)
            {
                // s8 read straight from the input: stored form x + 128.
                Vector256<byte> m = Vector256.Create((byte)0x80);
                a = Avx2.Xor(a, m); b = Avx2.Xor(b, m); d = Avx2.Xor(d, m); e = Avx2.Xor(e, m);
            }
            DepthwiseConvX86Rows.Quads(a, b, d, e, out var q0, out var q1, out var q2, out var q3);
            Avx.Store(dst, q0); Avx.Store(dst + 32, q1); Avx.Store(dst + 64, q2); Avx.Store(dst + 96, q3);
        }
    }

    /// <summary>The per-call constants of the row loops.</summary>
    private readonly struct Job<T, TClamp>(int phases, byte* wq, byte* biasQ, byte* scaleQ, int blocks, int rowBytes, T* tail,
        DepthwiseConvX86Rows.Epilogue epilogue) where T : unmanaged where TClamp : struct
    {
        /// <summary>Output rows oy and oy + 1 at stride 1: input quad rows iy0 .. iy0 + 3, the middle two shared.</summary>
        public void PairStride1(byte* r0, byte* r1, byte* r2, byte* r3, T* dstA, T* dstB)
        {
            int ph = 0;
            for (int b = 0; b < blocks; b++)
            {
                int o = b * 128;
                sbyte* w = (sbyte*)(wq + ph * 384);
                var bq = (Vector256<int>*)(biasQ + ph * 128);
                Shared(r0 + o, r1 + o, r2 + o, r3 + o, w, bq[0], out var a0, out var b0);
                Shared(r0 + o + 32, r1 + o + 32, r2 + o + 32, r3 + o + 32, w + 32, bq[1], out var a1, out var b1);
                Shared(r0 + o + 64, r1 + o + 64, r2 + o + 64, r3 + o + 64, w + 64, bq[2], out var a2, out var b2);
                Shared(r0 + o + 96, r1 + o + 96, r2 + o + 96, r3 + o + 96, w + 96, bq[3], out var a3, out var b3);
                float* scale = (float*)(scaleQ + ph * 128);
                epilogue.Store<T, TClamp>(a0, a1, a2, a3, scale, dstA, tail, b * 32, rowBytes);
                epilogue.Store<T, TClamp>(b0, b1, b2, b3, scale, dstB, tail, b * 32, rowBytes);
                if (++ph == phases) ph = 0;
            }
        }

        /// <summary>Output rows oy and oy + 1 at a larger row stride: each has its own three input quad rows.</summary>
        public void Pair(byte* ra0, byte* ra1, byte* ra2, byte* rb0, byte* rb1, byte* rb2, T* dstA, T* dstB)
        {
            int ph = 0;
            for (int b = 0; b < blocks; b++)
            {
                int o = b * 128;
                sbyte* w = (sbyte*)(wq + ph * 384);
                var bq = (Vector256<int>*)(biasQ + ph * 128);
                Separate(ra0 + o, ra1 + o, ra2 + o, rb0 + o, rb1 + o, rb2 + o, w, bq[0], out var a0, out var b0);
                o += 32;
                Separate(ra0 + o, ra1 + o, ra2 + o, rb0 + o, rb1 + o, rb2 + o, w + 32, bq[1], out var a1, out var b1);
                o += 32;
                Separate(ra0 + o, ra1 + o, ra2 + o, rb0 + o, rb1 + o, rb2 + o, w + 64, bq[2], out var a2, out var b2);
                o += 32;
                Separate(ra0 + o, ra1 + o, ra2 + o, rb0 + o, rb1 + o, rb2 + o, w + 96, bq[3], out var a3, out var b3);
                float* scale = (float*)(scaleQ + ph * 128);
                epilogue.Store<T, TClamp>(a0, a1, a2, a3, scale, dstA, tail, b * 32, rowBytes);
                epilogue.Store<T, TClamp>(b0, b1, b2, b3, scale, dstB, tail, b * 32, rowBytes);
                if (++ph == phases) ph = 0;
            }
        }

        /// <summary>One output row (the odd one at the end of a range).</summary>
        public void Single(byte* r0, byte* r1, byte* r2, T* dst)
        {
            int ph = 0;
            for (int b = 0; b < blocks; b++)
            {
                int o = b * 128;
                sbyte* w = (sbyte*)(wq + ph * 384);
                var bq = (Vector256<int>*)(biasQ + ph * 128);
                var a0 = One(r0 + o, r1 + o, r2 + o, w, bq[0]);
                var a1 = One(r0 + o + 32, r1 + o + 32, r2 + o + 32, w + 32, bq[1]);
                var a2 = One(r0 + o + 64, r1 + o + 64, r2 + o + 64, w + 64, bq[2]);
                var a3 = One(r0 + o + 96, r1 + o + 96, r2 + o + 96, w + 96, bq[3]);
                epilogue.Store<T, TClamp>(a0, a1, a2, a3, (float*)(scaleQ + ph * 128), dst, tail, b * 32, rowBytes);
                if (++ph == phases) ph = 0;
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Shared(byte* r0, byte* r1, byte* r2, byte* r3, sbyte* w, Vector256<int> bias,
            out Vector256<int> a, out Vector256<int> b)
        {
            Vector256<sbyte> w0 = Avx.LoadVector256(w), w1 = Avx.LoadVector256(w + 128), w2 = Avx.LoadVector256(w + 256);
            Vector256<byte> x = Avx.LoadVector256(r1);
            a = AvxVnni.MultiplyWideningAndAdd(bias, x, w1);
            b = AvxVnni.MultiplyWideningAndAdd(bias, x, w0);
            x = Avx.LoadVector256(r2);
            a = AvxVnni.MultiplyWideningAndAdd(a, x, w2);
            b = AvxVnni.MultiplyWideningAndAdd(b, x, w1);
            a = AvxVnni.MultiplyWideningAndAdd(a, Avx.LoadVector256(r0), w0);
            b = AvxVnni.MultiplyWideningAndAdd(b, Avx.LoadVector256(r3), w2);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static void Separate(byte* ra0, byte* ra1, byte* ra2, byte* rb0, byte* rb1, byte* rb2, sbyte* w, Vector256<int> bias,
            out Vector256<int> a, out Vector256<int> b)
        {
            Vector256<sbyte> w0 = Avx.LoadVector256(w), w1 = Avx.LoadVector256(w + 128), w2 = Avx.LoadVector256(w + 256);
            a = AvxVnni.MultiplyWideningAndAdd(bias, Avx.LoadVector256(ra0), w0);
            b = AvxVnni.MultiplyWideningAndAdd(bias, Avx.LoadVector256(rb0), w0);
            a = AvxVnni.MultiplyWideningAndAdd(a, Avx.LoadVector256(ra1), w1);
            b = AvxVnni.MultiplyWideningAndAdd(b, Avx.LoadVector256(rb1), w1);
            a = AvxVnni.MultiplyWideningAndAdd(a, Avx.LoadVector256(ra2), w2);
            b = AvxVnni.MultiplyWideningAndAdd(b, Avx.LoadVector256(rb2), w2);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector256<int> One(byte* r0, byte* r1, byte* r2, sbyte* w, Vector256<int> bias)
        {
            Vector256<int> a = AvxVnni.MultiplyWideningAndAdd(bias, Avx.LoadVector256(r0), Avx.LoadVector256(w));
            a = AvxVnni.MultiplyWideningAndAdd(a, Avx.LoadVector256(r1), Avx.LoadVector256(w + 128));
            return AvxVnni.MultiplyWideningAndAdd(a, Avx.LoadVector256(r2), Avx.LoadVector256(w + 256));
        }
    }
}
