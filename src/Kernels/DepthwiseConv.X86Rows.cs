using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// Int8 depthwise convolution for x86 (AVX2 and AVX-VNNI), any kernel size and stride without dilation,
/// computed 32 output bytes at a time along a flat output row rather than pixel by pixel.
/// <para>
/// The idea: in NHWC an output row is <c>OW * C</c> contiguous bytes, and for stride 1 the input byte that
/// tap (ky, kx) multiplies with output byte j of the row is byte <c>j + kx * C</c> of input row <c>iy0 + ky</c>,
/// whatever the channel of j. So every tap is a plain 32-byte load at a per-row offset, with no per-pixel
/// bookkeeping and no channel-count alignment: 16 channels means two pixels per vector, 32 channels one.
/// To make that true everywhere, each input row is copied once into a slot padded with the zero point
/// (the padding then contributes (zp - zp) * w = 0, as in the reference) and, for stride s, split into s
/// planes of every s-th pixel so that tap kx is byte <c>j + (kx / s) * C</c> of plane <c>kx % s</c>.
/// The KH slots form a ring keyed by input row, so each input row is copied once per call.
/// </para>
/// <para>
/// The weight of byte j is channel <c>j mod C</c>; a 32-byte block starting at j0 sees the same pattern as
/// the one at <c>j0 + lcm(C, 32)</c>, so weights, bias and scales are prepared once per call for each of the
/// <c>C / gcd(C, 32)</c> "phases" (the channel blocks when C is a multiple of 32, a single one for C = 8, 16).
/// </para>
/// <para>
/// Taps are grouped by four (AVX-VNNI: the four inputs' bytes interleaved by VPUNPCKLBW/VPUNPCKLWD and
/// multiplied by one VPDPBUSD per 8 output bytes) or by two (AVX2: bytes interleaved and zero-extended to
/// s16 pairs, one VPMADDWD + VPADDD per 8 output bytes). Both are exact: u8 times s8 products and their sums
/// of two or four stay far inside int32. The zero point is not subtracted per tap: sum((x - zp) w) =
/// sum(x w) - zp sum(w), and the second term is folded into the bias once per call (int32 wrap-around makes
/// this exact for any bias). s8 activations are stored in the slots as x + 128 (XOR 0x80) with zp + 128,
/// the same integers. The interleave leaves the 32 accumulator lanes in an order that the requantization's
/// VPACKSSDW/VPACKUSWB put straight back into byte order, so bias and scales are prepared in that order.
/// </para>
/// </summary>
internal static unsafe class DepthwiseConvX86Rows
{
    internal const int MaxPhases = 64;
    private const int MaxTaps = 64;

    /// <summary>Shapes this kernel takes (the rest go to the per-pixel kernel): no dilation, bounded tap and phase counts.</summary>
    public static bool Handles(in WindowGeometry g, int channels) =>
        g.DilationHeight == 1 && g.DilationWidth == 1 && g.KernelHeight * g.KernelWidth <= MaxTaps && Phases(channels) <= MaxPhases;

    internal static int Phases(int channels) => channels / Math.Min(channels & -channels, 32);

    public static void Run<T>(in DepthwiseArgs<T> a, bool vnni) where T : unmanaged
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, kh = g.KernelHeight, kw = g.KernelWidth, taps = kh * kw;
        int sh = g.StrideHeight, sw = g.StrideWidth;
        int group = vnni ? 4 : 2, groups = (taps + group - 1) / group;
        int phases = Phases(channels), period = phases * 32;
        int outWidth = g.OutputWidth, rowBytes = outWidth * channels;
        int paddedPixels = Math.Max(g.PadLeft + g.InputWidth, (outWidth - 1) * sw + kw);
        int planeBytes = DepthwiseX86Scratch.Align((paddedPixels + sw - 1) / sw * channels + 32);
        int slotBytes = planeBytes * sw;
        bool flip = typeof(T) == typeof(sbyte);
        int zpStored = a.InputZeroPoint + (flip ? 128 : 0);

        int weightBytes = phases * groups * 128;
        // Later calls of a node read what its first call prepared (weights interleaved, zp * sum(w) in the bias).
        var kind = vnni ? DepthwiseX86Kernel.RowsQuads : DepthwiseX86Kernel.RowsPairs;
        DepthwiseX86Prepared? ready = DepthwiseX86Prepared.Find(a.Packed, kind, g, zpStored, a.Bias, a.Scales, DepthwiseX86Scratch.PreparedSize(weightBytes, phases));
        byte[] rented = ArrayPool<byte>.Shared.Rent(DepthwiseX86Scratch.Bytes(weightBytes, phases, taps, period, (kh + 1) * slotBytes + 64));
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
                byte* padSlot = scratch.Rest, slots = padSlot + slotBytes, tail = slots + kh * slotBytes;

                bool fits = DepthwiseX86Prepared.PrepareOrReuse(ready, a, kind, zpStored, scratch, weights, taps, bias, scales,
                    new Preparation(vnni, taps, groups, phases, zpStored));

                Unsafe.InitBlockUnaligned(padSlot, (byte)zpStored, (uint)slotBytes);
                Span<int> slotRow = stackalloc int[kh];
                slotRow.Fill(-1);
                byte** rows = stackalloc byte*[kh];
                byte** src = stackalloc byte*[groups * group];
                var epilogue = new Epilogue(Requantization.Bounds(a.Output).Hi, a.Output.ZeroPoint, a.Output.Min, a.Output.Max);
                int inRowBytes = g.InputWidth * channels;

                for (int oy = a.RowStart; oy < a.RowEnd; oy++)
                {
                    int iy0 = oy * sh - g.PadTop;
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = iy0 + ky;
                        if ((uint)iy >= (uint)g.InputHeight) { rows[ky] = padSlot; continue; }
                        int s = iy % kh;
                        byte* slot = slots + s * slotBytes;
                        if (slotRow[s] != iy)
                        {
                            FillSlot(slot, (byte*)(input + iy * inRowBytes), g.InputWidth, channels, g.PadLeft, sw, planeBytes, slotBytes, (byte)zpStored, flip);
                            slotRow[s] = iy;
                        }
                        rows[ky] = slot;
                    }
                    for (int t = 0; t < groups * group; t++)
                    {
                        int kx = t % kw;
                        src[t] = t < taps ? rows[t / kw] + (kx % sw) * planeBytes + (kx / sw) * channels : src[0];
                    }
                    T* dst = output + oy * rowBytes;
                    if (vnni)
                    {
                        if (fits) RowQuads<T, SkipHighClamp>(src, groups, phases, wq, biasQ, scaleQ, rowBytes, dst, (T*)tail, epilogue);
                        else RowQuads<T, ClampHigh>(src, groups, phases, wq, biasQ, scaleQ, rowBytes, dst, (T*)tail, epilogue);
                    }
                    else
                    {
                        if (fits) RowPairs<T, SkipHighClamp>(src, groups, phases, wq, biasQ, scaleQ, rowBytes, dst, (T*)tail, epilogue);
                        else RowPairs<T, ClampHigh>(src, groups, phases, wq, biasQ, scaleQ, rowBytes, dst, (T*)tail, epilogue);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private readonly struct Preparation(bool vnni, int taps, int groups, int phases, int zp) : IDepthwiseX86Preparation
    {
        public bool Expands => true;

        public void Prepare(in DepthwiseX86Scratch scratch)
        {
            if (vnni) PrepareQuads(scratch, taps, groups, phases, zp);
            else PreparePairs(scratch, taps, groups, phases, zp);
        }
    }

    private static void PrepareQuads(in DepthwiseX86Scratch scratch, int taps, int groups, int phases, int zp)
    {
        Vector256<byte> zpBytes = Vector256.Create((byte)zp);
        for (int ph = 0; ph < phases; ph++)
        {
            Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default;
            for (int gi = 0; gi < groups; gi++)
            {
                int t = gi * 4;
                Quads(scratch.ExpandedTap(t, taps, ph), scratch.ExpandedTap(t + 1, taps, ph),
                      scratch.ExpandedTap(t + 2, taps, ph), scratch.ExpandedTap(t + 3, taps, ph),
                      out var q0, out var q1, out var q2, out var q3);
                byte* w = scratch.Weights + (ph * groups + gi) * 128;
                Avx.Store(w, q0); Avx.Store(w + 32, q1); Avx.Store(w + 64, q2); Avx.Store(w + 96, q3);
                c0 = AvxVnni.MultiplyWideningAndAdd(c0, zpBytes, q0.AsSByte());
                c1 = AvxVnni.MultiplyWideningAndAdd(c1, zpBytes, q1.AsSByte());
                c2 = AvxVnni.MultiplyWideningAndAdd(c2, zpBytes, q2.AsSByte());
                c3 = AvxVnni.MultiplyWideningAndAdd(c3, zpBytes, q3.AsSByte());
            }
            scratch.StoreEpilogue(ph, c0, c1, c2, c3);
        }
    }

    private static void PreparePairs(in DepthwiseX86Scratch scratch, int taps, int groups, int phases, int zp)
    {
        Vector256<short> zp16 = Vector256.Create((short)zp);
        for (int ph = 0; ph < phases; ph++)
        {
            Vector256<int> c0 = default, c1 = default, c2 = default, c3 = default;
            for (int gi = 0; gi < groups; gi++)
            {
                int t = gi * 2;
                PairsSigned(scratch.ExpandedTap(t, taps, ph), scratch.ExpandedTap(t + 1, taps, ph),
                    out var q0, out var q1, out var q2, out var q3);
                byte* w = scratch.Weights + (ph * groups + gi) * 128;
                Avx.Store((short*)w, q0); Avx.Store((short*)(w + 32), q1); Avx.Store((short*)(w + 64), q2); Avx.Store((short*)(w + 96), q3);
                c0 = Avx2.Add(c0, Avx2.MultiplyAddAdjacent(zp16, q0));
                c1 = Avx2.Add(c1, Avx2.MultiplyAddAdjacent(zp16, q1));
                c2 = Avx2.Add(c2, Avx2.MultiplyAddAdjacent(zp16, q2));
                c3 = Avx2.Add(c3, Avx2.MultiplyAddAdjacent(zp16, q3));
            }
            scratch.StoreEpilogue(ph, c0, c1, c2, c3);
        }
    }

    /// <summary>
    /// Four rows of 32 bytes to four vectors of (a, b, c, d) byte quads: vector v, lane L, dword e is byte
    /// 16 L + 4 v + e of the rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Quads(Vector256<byte> a, Vector256<byte> b, Vector256<byte> c, Vector256<byte> d,
        out Vector256<byte> q0, out Vector256<byte> q1, out Vector256<byte> q2, out Vector256<byte> q3)
    {
        Vector256<short> abLo = Avx2.UnpackLow(a, b).AsInt16(), abHi = Avx2.UnpackHigh(a, b).AsInt16();
        Vector256<short> cdLo = Avx2.UnpackLow(c, d).AsInt16(), cdHi = Avx2.UnpackHigh(c, d).AsInt16();
        q0 = Avx2.UnpackLow(abLo, cdLo).AsByte();
        q1 = Avx2.UnpackHigh(abLo, cdLo).AsByte();
        q2 = Avx2.UnpackLow(abHi, cdHi).AsByte();
        q3 = Avx2.UnpackHigh(abHi, cdHi).AsByte();
    }

    /// <summary>Two rows of u8 to s16 (a, b) pairs, in the same lane order as <see cref="Quads"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pairs(Vector256<byte> a, Vector256<byte> b,
        out Vector256<short> q0, out Vector256<short> q1, out Vector256<short> q2, out Vector256<short> q3)
    {
        Vector256<byte> lo = Avx2.UnpackLow(a, b), hi = Avx2.UnpackHigh(a, b), zero = Vector256<byte>.Zero;
        q0 = Avx2.UnpackLow(lo, zero).AsInt16();
        q1 = Avx2.UnpackHigh(lo, zero).AsInt16();
        q2 = Avx2.UnpackLow(hi, zero).AsInt16();
        q3 = Avx2.UnpackHigh(hi, zero).AsInt16();
    }

    /// <summary>Two rows of s8 to sign-extended s16 (a, b) pairs, in the same order as <see cref="Pairs"/>.</summary>
    private static void PairsSigned(Vector256<byte> a, Vector256<byte> b,
        out Vector256<short> q0, out Vector256<short> q1, out Vector256<short> q2, out Vector256<short> q3)
    {
        Vector256<byte> lo = Avx2.UnpackLow(a, b), hi = Avx2.UnpackHigh(a, b);
        Vector256<byte> loSign = Avx2.CompareGreaterThan(Vector256<sbyte>.Zero, lo.AsSByte()).AsByte();
        Vector256<byte> hiSign = Avx2.CompareGreaterThan(Vector256<sbyte>.Zero, hi.AsSByte()).AsByte();
        q0 = Avx2.UnpackLow(lo, loSign).AsInt16();
        q1 = Avx2.UnpackHigh(lo, loSign).AsInt16();
        q2 = Avx2.UnpackLow(hi, hiSign).AsInt16();
        q3 = Avx2.UnpackHigh(hi, hiSign).AsInt16();
    }

    private static void RowQuads<T, TClamp>(byte** src, int groups, int phases, byte* wq, byte* biasQ, byte* scaleQ,
        int rowBytes, T* dst, T* tail, in Epilogue e) where T : unmanaged where TClamp : struct
    {
        int ph = 0;
        for (int j = 0; j < rowBytes; j += 32)
        {
            var bq = (Vector256<int>*)(biasQ + ph * 128);
            Vector256<int> acc0 = bq[0], acc1 = bq[1], acc2 = bq[2], acc3 = bq[3];
            byte* w = wq + ph * groups * 128;
            byte** s = src;
            for (int gi = 0; gi < groups; gi++, s += 4, w += 128)
            {
                Quads(Avx.LoadVector256(s[0] + j), Avx.LoadVector256(s[1] + j), Avx.LoadVector256(s[2] + j), Avx.LoadVector256(s[3] + j),
                    out var q0, out var q1, out var q2, out var q3);
                acc0 = AvxVnni.MultiplyWideningAndAdd(acc0, q0, Avx.LoadVector256((sbyte*)w));
                acc1 = AvxVnni.MultiplyWideningAndAdd(acc1, q1, Avx.LoadVector256((sbyte*)w + 32));
                acc2 = AvxVnni.MultiplyWideningAndAdd(acc2, q2, Avx.LoadVector256((sbyte*)w + 64));
                acc3 = AvxVnni.MultiplyWideningAndAdd(acc3, q3, Avx.LoadVector256((sbyte*)w + 96));
            }
            e.Store<T, TClamp>(acc0, acc1, acc2, acc3, (float*)(scaleQ + ph * 128), dst, tail, j, rowBytes);
            if (++ph == phases) ph = 0;
        }
    }

    private static void RowPairs<T, TClamp>(byte** src, int groups, int phases, byte* wq, byte* biasQ, byte* scaleQ,
        int rowBytes, T* dst, T* tail, in Epilogue e) where T : unmanaged where TClamp : struct
    {
        int ph = 0;
        for (int j = 0; j < rowBytes; j += 32)
        {
            var bq = (Vector256<int>*)(biasQ + ph * 128);
            Vector256<int> acc0 = bq[0], acc1 = bq[1], acc2 = bq[2], acc3 = bq[3];
            byte* w = wq + ph * groups * 128;
            byte** s = src;
            for (int gi = 0; gi < groups; gi++, s += 2, w += 128)
            {
                Pairs(Avx.LoadVector256(s[0] + j), Avx.LoadVector256(s[1] + j), out var q0, out var q1, out var q2, out var q3);
                acc0 = Avx2.Add(acc0, Avx2.MultiplyAddAdjacent(q0, Avx.LoadVector256((short*)w)));
                acc1 = Avx2.Add(acc1, Avx2.MultiplyAddAdjacent(q1, Avx.LoadVector256((short*)(w + 32))));
                acc2 = Avx2.Add(acc2, Avx2.MultiplyAddAdjacent(q2, Avx.LoadVector256((short*)(w + 64))));
                acc3 = Avx2.Add(acc3, Avx2.MultiplyAddAdjacent(q3, Avx.LoadVector256((short*)(w + 96))));
            }
            e.Store<T, TClamp>(acc0, acc1, acc2, acc3, (float*)(scaleQ + ph * 128), dst, tail, j, rowBytes);
            if (++ph == phases) ph = 0;
        }
    }

    /// <summary>
    /// One input row into a slot: the zero point where the window hangs over the left or right edge, and
    /// for stride s > 1 the pixels dealt round-robin into s planes.
    /// </summary>
    internal static void FillSlot(byte* slot, byte* row, int width, int channels, int padLeft, int stride, int planeBytes, int slotBytes, byte zp, bool flip)
    {
        if (stride == 1)
        {
            int left = padLeft * channels, body = width * channels;
            Unsafe.InitBlockUnaligned(slot, zp, (uint)left);
            Copy(slot + left, row, body, flip);
            Unsafe.InitBlockUnaligned(slot + left + body, zp, (uint)(slotBytes - left - body));
            return;
        }
        // Plane by plane, each byte written once (a memset of the whole slot first cost as much as the copies).
        int planePixels = (planeBytes - 32) / channels;
        for (int p = 0; p < stride; p++)
        {
            byte* plane = slot + p * planeBytes;
            for (int i = 0; i < planePixels; i++)
            {
                int ix = i * stride + p - padLeft;
                if ((uint)ix < (uint)width) Copy(plane + i * channels, row + ix * channels, channels, flip);
                else Unsafe.InitBlockUnaligned(plane + i * channels, zp, (uint)channels);
            }
            Unsafe.InitBlockUnaligned(plane + planePixels * channels, zp, (uint)(planeBytes - planePixels * channels));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Copy(byte* dst, byte* src, int n, bool flip)
    {
        byte m = flip ? (byte)0x80 : (byte)0;
        Vector256<byte> m256 = Vector256.Create(m);
        int i = 0;
        for (; i + 32 <= n; i += 32) Avx.Store(dst + i, Avx2.Xor(Avx.LoadVector256(src + i), m256));
        if (i + 16 <= n) { Sse2.Store(dst + i, Sse2.Xor(Sse2.LoadVector128(src + i), m256.GetLower())); i += 16; }
        for (; i < n; i++) dst[i] = (byte)(src[i] ^ m);
    }

    /// <summary>Epilogue variant: clamp the scaled value to the upper bound in float (products may leave int32).</summary>
    internal readonly struct ClampHigh;

    /// <summary>Epilogue variant: no float clamp, every |acc * scale| is provably below 2^31.</summary>
    internal readonly struct SkipHighClamp;

    /// <summary>
    /// Whether no accumulator of this call can scale past 2^30, so VCVTPS2DQ never sees an out-of-range value and
    /// the epilogue may leave the upper clamp to the saturating packs and VPMINUB/VPMINSB (one VMINPS fewer per 8
    /// outputs). The accumulators are <c>bias - zp sum(w) + sum(x w)</c> with stored inputs x in 0..255, so
    /// <c>|acc| &lt;= |bias| + (zp + 255) sum|w|</c>; the bound is computed in float with a factor-2 margin over
    /// its rounding. Sums of |w| are kept in 16 bits (255 taps of 128 at most).
    /// </summary>
    internal static bool FitsWithoutHighClamp(sbyte* weights, int taps, int channels, int* bias, bool noBias, float* scales, int zpStored)
    {
        const float Limit = 1 << 30;
        if (taps > 255) return false;
        float factor = zpStored + 255;
        Vector256<float> limit = Vector256.Create(Limit), f = Vector256.Create(factor);
        Vector256<float> absMask = Vector256.Create(0x7FFFFFFF).AsSingle();
        int c = 0;
        for (; c + 16 <= channels; c += 16)
        {
            Vector256<short> sum = Vector256<short>.Zero;
            for (int t = 0; t < taps; t++)
                sum = Avx2.Add(sum, Avx2.ConvertToVector256Int16(Ssse3.Abs(Sse2.LoadVector128(weights + t * channels + c))).AsInt16());
            for (int h = 0; h < 2; h++)
            {
                Vector256<float> sumAbs = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(h == 0 ? sum.GetLower() : sum.GetUpper()));
                Vector256<float> b = noBias ? Vector256<float>.Zero : Avx.And(Avx.ConvertToVector256Single(Avx.LoadVector256(bias + c + 8 * h)), absMask);
                Vector256<float> bound = Avx.Multiply(Avx.Add(b, Avx.Multiply(sumAbs, f)), Avx.And(Avx.LoadVector256(scales + c + 8 * h), absMask));
                // Not-less-than also catches NaN.
                if (Avx.MoveMask(Avx.Compare(bound, limit, FloatComparisonMode.UnorderedNotLessThanNonSignaling)) != 0) return false;
            }
        }
        for (; c < channels; c++)
        {
            int sumAbs = 0;
            for (int t = 0; t < taps; t++) sumAbs += Math.Abs((int)weights[t * channels + c]);
            float b = noBias ? 0f : MathF.Abs(bias[c]);
            if (!((b + sumAbs * factor) * MathF.Abs(scales[c]) < Limit)) return false;
        }
        return true;
    }

    /// <summary>
    /// The shared requantization (<see cref="Requantization"/>) of 32 accumulators in quad order, stored in byte
    /// order. Only the upper clamp is done in float (it keeps VCVTPS2DQ in range); the lower one is done on the
    /// bytes: below it, the conversion and the saturating packs and zero-point add are all monotonic and give a
    /// value at or under the lower bound, so VPMAXUB/VPMAXSB then yield exactly the bound, as the float clamp would.
    /// With <see cref="SkipHighClamp"/> (when <see cref="FitsWithoutHighClamp"/> holds) the upper clamp goes to the
    /// bytes too, by the same argument: the float clamp is then only needed when a product could leave int32.
    /// </summary>
    internal readonly struct Epilogue(float hi, int zeroPoint, int min, int max)
    {
        private readonly Vector256<float> _hi = Vector256.Create(hi);
        private readonly Vector256<short> _zp = Vector256.Create((short)zeroPoint);
        private readonly Vector256<byte> _min = Vector256.Create((byte)min), _max = Vector256.Create((byte)max);
        // Without a fused activation the clamp is the element type's range, which the saturating pack already
        // gives: a predictable branch then saves two vector instructions of about twenty per 32 outputs.
        private readonly bool _fullU8 = min == 0 && max == 255, _fullS8 = min == -128 && max == 127;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Vector256<int> Round<TClamp>(Vector256<int> acc, float* scale) where TClamp : struct
        {
            Vector256<float> v = Avx.Multiply(Avx.ConvertToVector256Single(acc), Avx.LoadVector256(scale));
            if (typeof(TClamp) == typeof(ClampHigh)) v = Avx.Min(_hi, v);
            return Avx.ConvertToVector256Int32(v);
        }

        /// <summary>The 32 requantized output bytes, in byte order.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public Vector256<byte> Pack<T, TClamp>(Vector256<int> a0, Vector256<int> a1, Vector256<int> a2, Vector256<int> a3, float* scale)
            where T : unmanaged where TClamp : struct
        {
            Vector256<short> p01 = Avx2.AddSaturate(Avx2.PackSignedSaturate(Round<TClamp>(a0, scale), Round<TClamp>(a1, scale + 8)), _zp);
            Vector256<short> p23 = Avx2.AddSaturate(Avx2.PackSignedSaturate(Round<TClamp>(a2, scale + 16), Round<TClamp>(a3, scale + 24)), _zp);
            if (typeof(T) == typeof(byte))
            {
                Vector256<byte> u8 = Avx2.PackUnsignedSaturate(p01, p23);
                return _fullU8 ? u8 : Avx2.Min(Avx2.Max(u8, _min), _max);
            }
            Vector256<sbyte> s8 = Avx2.PackSignedSaturate(p01, p23);
            return (_fullS8 ? s8 : Avx2.Min(Avx2.Max(s8, _min.AsSByte()), _max.AsSByte())).AsByte();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store<T, TClamp>(Vector256<int> a0, Vector256<int> a1, Vector256<int> a2, Vector256<int> a3, float* scale,
            T* dst, T* tail, int j, int rowBytes) where T : unmanaged where TClamp : struct
        {
            Vector256<byte> bytes = Pack<T, TClamp>(a0, a1, a2, a3, scale);
            if (j + 32 <= rowBytes)
            {
                Avx.Store((byte*)(dst + j), bytes);
            }
            else
            {
                // A byte loop, not a memcpy call: a call in the row loop makes the JIT spill every live
                // accumulator around it (SysV has no callee-saved vector registers), on every block.
                Avx.Store((byte*)tail, bytes);
                byte* to = (byte*)(dst + j), from = (byte*)tail;
                for (int i = 0, n = rowBytes - j; i < n; i++) to[i] = from[i];
            }
        }
    }
}
