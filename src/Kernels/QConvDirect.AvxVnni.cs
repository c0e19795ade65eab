using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// AVX-VNNI direct convolution: the receptive field stays in bytes (one 16-byte copy per kernel row, s8 flipped to
/// u8 by xor 0x80), and each broadcast group of four taps meets four s8 weights of 8 channels in one VPDPBUSD,
/// twice the taps per instruction of the AVX2 path with no separate add. Four output pixels run side by side so
/// that eight independent accumulators (4 pixels x 16 channels) hide VPDPBUSD's latency and each weight load
/// serves four pixels. Padding reads the (flipped) input zero point, so <c>acc = bias − zp·Σw + Σ x·w</c> is
/// exactly <c>bias + Σ (x − zp)·w</c>.
/// </summary>
internal static unsafe class QConvDirectAvxVnni
{
    private const int Pixels = 4;

    [SkipLocalsInit]
    public static void Run<T>(in QConvDirectArgs<T> a) where T : unmanaged
    {
        var conv = a.Conv;
        var s = conv.Shape;
        int cin = s.InChannels, cout = s.OutChannels, kh = s.KernelHeight;
        int quads = conv.RowQuads, r4 = 4 * quads, blocks = conv.ChannelBlocks, padded = blocks * 8;
        bool signed = typeof(T) == typeof(sbyte);
        int zp = a.InputZeroPoint + (signed ? 128 : 0);
        int field = kh * r4, fieldQuads = kh * quads;
        byte* taps = stackalloc byte[Pixels * field + 16]; // +16: a row's 16-byte store may run past the last row
        float* scales = stackalloc float[padded];
        int* bias = stackalloc int[padded];
        a.FillChannelConstants(scales, bias, zp);
        var (lo, hi) = Requantization.Bounds(a.Output);
        var e = new Epilogue(Vector256.Create(lo), Vector256.Create(hi), Vector256.Create(a.Output.ZeroPoint), scales, cout, signed, a.Output);
        byte* outTail = stackalloc byte[8];
        fixed (T* input = a.Input)
        fixed (T* destination = a.Destination)
        fixed (sbyte* weights = conv.PackedQuads)
        {
            var gather = new Gather((byte*)input, a.Input.Length, s, r4, zp, signed);
            var flip = Vector128.Create(signed ? (byte)0x80 : (byte)0);
            long inputLength = a.Input.Length, imageBytes = (long)s.Height * s.Width * cin;
            int pixelStep = s.StrideWidth * cin;
            long rowStep = (long)s.DilationHeight * s.Width * cin;
            for (int row = a.RowStart; row < a.RowEnd; row++)
            {
                int n = row / s.OutHeight, oy = row % s.OutHeight;
                for (int ox = 0; ox < s.OutWidth; ox += Pixels)
                {
                    int count = Math.Min(Pixels, s.OutWidth - ox);
                    int ixFirst = ox * s.StrideWidth - s.PadLeft, ixLast = (ox + Pixels - 1) * s.StrideWidth - s.PadLeft;
                    int iyFirst = oy * s.StrideHeight - s.PadTop, iyLast = iyFirst + (kh - 1) * s.DilationHeight;
                    byte* image = (byte*)input + (long)n * imageBytes;
                    if (count == Pixels && s.DilationWidth == 1 && ixFirst >= 0 && ixLast + s.KernelWidth <= s.Width && iyFirst >= 0 && iyLast < s.Height
                        && (image - (byte*)input) + ((long)iyLast * s.Width + ixLast) * cin + 16 <= inputLength)
                    {
                        // Interior: every kernel row of the four pixels is one 16-byte copy, no bounds to test. In address
                        // order, so a copy's bytes past its row are overwritten by the next row (or pixel) before use.
                        byte* rowStart = image + ((long)iyFirst * s.Width + ixFirst) * cin;
                        byte* dst = taps;
                        for (int p = 0; p < Pixels; p++, rowStart += pixelStep)
                        {
                            byte* src = rowStart;
                            for (int ky = 0; ky < kh; ky++, src += rowStep, dst += r4)
                            {
                                var bytes = Vector128.Load(src);
                                (signed ? bytes ^ flip : bytes).Store(dst);
                            }
                        }
                    }
                    else
                    {
                        // A short last group repeats its last pixel: the extra lanes are computed and never stored.
                        for (int p = 0; p < Pixels; p++) gather.Field(n, oy, ox + Math.Min(p, count - 1), taps + p * field);
                    }
                    T* pixelOut = destination + ((long)row * s.OutWidth + ox) * cout;
                    for (int b0 = 0; b0 < blocks; b0 += 2)
                    {
                        bool two = b0 + 1 < blocks;
                        var c00 = Avx.LoadVector256(bias + b0 * 8);
                        var c01 = two ? Avx.LoadVector256(bias + b0 * 8 + 8) : Vector256<int>.Zero;
                        Vector256<int> c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
                        // A pixel's field is kh x quads consecutive quads, and the packed weights follow the same order.
                        byte* t = taps;
                        sbyte* w = weights + b0 * 32;
                        int wStep = blocks * 32;
                        if (two)
                        {
                            for (int q = 0; q < fieldQuads; q++, w += wStep, t += 4)
                            {
                                var w0 = Vector256.Load(w);
                                var w1 = Vector256.Load(w + 32);
                                var x0 = Vector256.Create(*(int*)t).AsByte();
                                var x1 = Vector256.Create(*(int*)(t + field)).AsByte();
                                var x2 = Vector256.Create(*(int*)(t + 2 * field)).AsByte();
                                var x3 = Vector256.Create(*(int*)(t + 3 * field)).AsByte();
                                c00 = AvxVnni.MultiplyWideningAndAdd(c00, x0, w0);
                                c10 = AvxVnni.MultiplyWideningAndAdd(c10, x1, w0);
                                c20 = AvxVnni.MultiplyWideningAndAdd(c20, x2, w0);
                                c30 = AvxVnni.MultiplyWideningAndAdd(c30, x3, w0);
                                c01 = AvxVnni.MultiplyWideningAndAdd(c01, x0, w1);
                                c11 = AvxVnni.MultiplyWideningAndAdd(c11, x1, w1);
                                c21 = AvxVnni.MultiplyWideningAndAdd(c21, x2, w1);
                                c31 = AvxVnni.MultiplyWideningAndAdd(c31, x3, w1);
                            }
                        }
                        else
                        {
                            for (int q = 0; q < fieldQuads; q++, w += wStep, t += 4)
                            {
                                var w0 = Vector256.Load(w);
                                c00 = AvxVnni.MultiplyWideningAndAdd(c00, Vector256.Create(*(int*)t).AsByte(), w0);
                                c10 = AvxVnni.MultiplyWideningAndAdd(c10, Vector256.Create(*(int*)(t + field)).AsByte(), w0);
                                c20 = AvxVnni.MultiplyWideningAndAdd(c20, Vector256.Create(*(int*)(t + 2 * field)).AsByte(), w0);
                                c30 = AvxVnni.MultiplyWideningAndAdd(c30, Vector256.Create(*(int*)(t + 3 * field)).AsByte(), w0);
                            }
                        }
                        if (count == Pixels && two && b0 * 8 + 16 <= cout)
                        {
                            e.StorePair(c00, c01, c10, c11, b0, pixelOut, pixelOut + cout);
                            e.StorePair(c20, c21, c30, c31, b0, pixelOut + 2 * cout, pixelOut + 3 * cout);
                            continue;
                        }
                        e.Store(c00, c01, two, b0, pixelOut, outTail);
                        if (count > 1) e.Store(c10, c11, two, b0, pixelOut + cout, outTail);
                        if (count > 2) e.Store(c20, c21, two, b0, pixelOut + 2 * cout, outTail);
                        if (count > 3) e.Store(c30, c31, two, b0, pixelOut + 3 * cout, outTail);
                    }
                }
            }
        }
    }

    /// <summary>Copies one output pixel's receptive field, kernel row by kernel row, as u8 bytes (padding = zero point).</summary>
    internal readonly struct Gather(byte* input, long inputLength, Conv2DShape s, int r4, int zp, bool signed)
    {
        public void Field(int n, int oy, int ox, byte* field)
        {
            var flip = Vector128.Create(signed ? (byte)0x80 : (byte)0);
            int cin = s.InChannels, kw = s.KernelWidth, rowTaps = kw * cin;
            byte* image = input + (long)n * s.Height * s.Width * cin;
            int ix0 = ox * s.StrideWidth - s.PadLeft;
            for (int ky = 0; ky < s.KernelHeight; ky++)
            {
                byte* dst = field + ky * r4;
                int iy = oy * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                if ((uint)iy >= (uint)s.Height)
                {
                    Vector128.Create((byte)zp).Store(dst);
                    continue;
                }
                long offset = ((long)iy * s.Width + ix0) * cin;
                if (s.DilationWidth == 1 && ix0 >= 0 && ix0 + kw <= s.Width && (image - input) + offset + 16 <= inputLength)
                {
                    // Bytes past the row's taps are neighbours; their packed weights are zero.
                    (Vector128.Load(image + offset) ^ flip).Store(dst);
                    continue;
                }
                for (int kx = 0; kx < kw; kx++)
                {
                    int ix = ix0 + kx * s.DilationWidth;
                    bool inside = (uint)ix < (uint)s.Width;
                    byte* px = image + ((long)iy * s.Width + ix) * cin;
                    for (int c = 0; c < cin; c++) dst[kx * cin + c] = inside ? (byte)(px[c] ^ (signed ? 0x80 : 0)) : (byte)zp;
                }
                for (int t = rowTaps; t < r4; t++) dst[t] = (byte)zp;
            }
        }
    }

    private readonly struct Epilogue(Vector256<float> lo, Vector256<float> hi, Vector256<int> zp, float* scales, int cout, bool signed,
        QuantizedOutput output)
    {
        private readonly Vector256<short> _zp16 = Vector256.Create((short)output.ZeroPoint);
        private readonly Vector256<byte> _min = Vector256.Create((byte)output.Min), _max = Vector256.Create((byte)output.Max);
        private readonly Vector256<int> _pixelOrder = Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7);

        /// <summary>
        /// 16 channels of two pixels in one pass: the requantization of <see cref="DepthwiseConvX86Rows.Epilogue"/>
        /// (upper clamp in float, the lower one on the bytes after saturating packs), one VPERMD back to channel order.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void StorePair<T>(Vector256<int> a0, Vector256<int> a1, Vector256<int> b0, Vector256<int> b1, int block, T* pixelA, T* pixelB)
            where T : unmanaged
        {
            float* s = scales + block * 8;
            Vector256<float> s0 = Avx.LoadVector256(s), s1 = Avx.LoadVector256(s + 8);
            Vector256<short> pa = Avx2.AddSaturate(Avx2.PackSignedSaturate(Round(a0, s0), Round(a1, s1)), _zp16);
            Vector256<short> pb = Avx2.AddSaturate(Avx2.PackSignedSaturate(Round(b0, s0), Round(b1, s1)), _zp16);
            Vector256<byte> bytes = typeof(T) == typeof(byte)
                ? Avx2.Min(Avx2.Max(Avx2.PackUnsignedSaturate(pa, pb), _min), _max)
                : Avx2.Min(Avx2.Max(Avx2.PackSignedSaturate(pa, pb), _min.AsSByte()), _max.AsSByte()).AsByte();
            bytes = Avx2.PermuteVar8x32(bytes.AsInt32(), _pixelOrder).AsByte();
            int o = block * 8;
            if (pixelB == pixelA + 16)
            {
                Avx.Store((byte*)(pixelA + o), bytes);
            }
            else
            {
                Sse2.Store((byte*)(pixelA + o), bytes.GetLower());
                Sse2.Store((byte*)(pixelB + o), bytes.GetUpper());
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private Vector256<int> Round(Vector256<int> acc, Vector256<float> scale) =>
            Avx.ConvertToVector256Int32(Avx.Min(hi, Avx.Multiply(Avx.ConvertToVector256Single(acc), scale)));

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store<T>(Vector256<int> first, Vector256<int> second, bool two, int block, T* pixelOut, byte* tail) where T : unmanaged
        {
            QConvDirectAvx2.Store(first, block, scales, lo, hi, zp, pixelOut, cout, signed, tail);
            if (two) QConvDirectAvx2.Store(second, block + 1, scales, lo, hi, zp, pixelOut, cout, signed, tail);
        }
    }
}
