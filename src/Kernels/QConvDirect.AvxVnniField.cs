using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// AVX-VNNI direct convolution over a compacted receptive field, for a CPU that also has AVX-512 VBMI (Zen 4/5, Ice
/// Lake and later): an RGB 3x3 stem has 27 taps, which <see cref="QConvDirectAvxVnni"/> multiplies as 3 kernel rows of
/// 3 quads (36 byte slots, 9 VPDPBUSD per 8 channels). Here each kernel row's whole quads (RGB 3x3: taps 0-7) are
/// broadcast straight from the input, and the 0-3 taps left past them in each row are packed together, (ky, tap)
/// order, into leftover quads (RGB 3x3: the three 9th taps in one quad): 7 VPDPBUSD per 8 channels, the same count as a
/// field compacted as a whole, but only the leftover quads are built. Eight neighbouring output pixels of a row form a
/// group: kernel row ky of all eight lies in the 64 input bytes from the first pixel's first tap (stride 2 over RGB
/// spans 51), so a group's leftover quads cost one zmm load per kernel row, a VPERMI2B (kernel rows 0|1) and, with
/// more than two rows, a second one (rows 2|3) and a byte blend; eight pixels' leftover quads fill 32 bytes per quad.
/// The leftover quads of up to 256 pixels are written before any is multiplied: a broadcast reading a store still in
/// flight waits for it. The multiply runs eight pixels x 16 channels (16 accumulators; each weight load serves eight
/// pixels), requantized on the registers by <see cref="QuantizedTileSinkAvx512{TSigned, TUnclamped}"/>, four pixels
/// per pack. Border groups load their segments masked into a buffer kept until the multiply, the padding reading the
/// raw input zero point; <c>acc = bias − zp·Σw + Σ x·w</c> as in the other direct paths (s8 flipped to u8 by xor 0x80,
/// the zero point with it).
/// </summary>
internal static unsafe class QConvDirect8x16FieldAvxVnni
{
    private const int Pixels = 8;
    // Output pixels whose leftover quads are built before any of them is multiplied.
    private const int ChunkPixels = 256;
    // Most leftover quads: at most 4 kernel rows x 3 bytes past the last whole quad of a row.
    private const int MaxLeftoverQuads = 3;

    /// <summary>
    /// Whether this path can run <paramref name="shape"/>: the CPU has VBMI and BW, a field fits 32 bytes in at most
    /// four kernel rows, no dilation along a row, and a kernel row of eight neighbouring pixels fits 64 bytes.
    /// </summary>
    public static bool Supports(in Conv2DShape shape) =>
        Avx512Vbmi.IsSupported && Avx512BW.IsSupported && AvxVnni.IsSupported
        && shape.KernelHeight * shape.KernelWidth * shape.InChannels <= 32 && shape.KernelHeight <= 4 && shape.DilationWidth == 1
        && (Pixels - 1) * shape.StrideWidth * shape.InChannels + shape.KernelWidth * shape.InChannels <= 64;

    /// <summary>Whole tap quads per kernel row, read straight from the input.</summary>
    public static int RowQuads(in Conv2DShape shape) => shape.KernelWidth * shape.InChannels / 4;

    /// <summary>Quads holding the 0-3 taps of each kernel row past its whole quads, (ky, tap) order with no gaps.</summary>
    public static int LeftoverQuads(in Conv2DShape shape) => (shape.KernelHeight * (shape.KernelWidth * shape.InChannels % 4) + 3) / 4;

    /// <summary>
    /// Where tap <paramref name="tap"/> of kernel row <paramref name="ky"/> (tap in (kx, c) order) sits among the
    /// <see cref="QConvDirect.PackedFieldQuads"/>: quad index and byte in the quad.
    /// </summary>
    public static (int Quad, int Byte) TapSlot(in Conv2DShape shape, int ky, int tap)
    {
        int rowTaps = shape.KernelWidth * shape.InChannels, whole = rowTaps / 4, rest = rowTaps % 4;
        if (tap < 4 * whole) return (ky * whole + tap / 4, tap % 4);
        int e = ky * rest + tap - 4 * whole;
        return (shape.KernelHeight * whole + e / 4, e % 4);
    }

    [SkipLocalsInit]
    public static void Run<T>(in QConvDirectArgs<T> a) where T : unmanaged
    {
        bool floatClamp = !FitsWithoutFloatClamp(a);
        if (typeof(T) == typeof(byte))
        {
            if (floatClamp) Run<T, No, Yes>(a);
            else Run<T, No, No>(a);
        }
        else if (floatClamp) Run<T, Yes, Yes>(a);
        else Run<T, Yes, No>(a);
    }

    private static void Run<T, TSigned, TFloatClamp>(in QConvDirectArgs<T> a) where T : unmanaged where TSigned : struct, IFlag where TFloatClamp : struct, IFlag
    {
        if (a.Conv.FieldQuads == 7 && RowQuads(a.Conv.Shape) == 2) Run<T, TSigned, TFloatClamp, Yes>(a);
        else Run<T, TSigned, TFloatClamp, No>(a);
    }

    /// <summary>
    /// Whether no accumulator of this call can reach 2^30 once scaled, so VCVTPS2DQ never meets a value past int32 and the
    /// upper clamp can be a byte minimum after the saturating packs instead of a float minimum before them (the same
    /// result: every step from the float to the byte is monotone, and the clamp bound is an integer). The accumulator is
    /// <c>bias − zp·Σw + Σ x·w</c> with stored bytes x in 0..255, so <c>|acc| ≤ |bias| + (zp + 255)·Σ|w|</c>; computed
    /// in double, with a factor-2 margin left for the float product's rounding.
    /// </summary>
    private static bool FitsWithoutFloatClamp<T>(in QConvDirectArgs<T> a) where T : unmanaged
    {
        const double Limit = 1 << 30;
        var conv = a.Conv;
        int zp = Math.Abs(a.InputZeroPoint) + (typeof(T) == typeof(sbyte) ? 128 : 0);
        for (int o = 0; o < conv.Shape.OutChannels; o++)
        {
            double bias = a.Bias.IsEmpty ? 0 : Math.Abs((double)a.Bias[o]);
            double scale = Math.Abs((double)(a.Scales.Length == 1 ? a.Scales[0] : a.Scales[o]));
            // Not-less-than also catches a NaN scale.
            if (!((bias + (zp + 255.0) * conv.ChannelAbsSums[o]) * scale < Limit)) return false;
        }
        return true;
    }

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<T, TSigned, TFloatClamp, TRgb3x3>(in QConvDirectArgs<T> a) where T : unmanaged where TSigned : struct, IFlag
        where TFloatClamp : struct, IFlag where TRgb3x3 : struct, IFlag
    {
        var conv = a.Conv;
        var s = conv.Shape;
        int cin = s.InChannels, cout = s.OutChannels, kh = s.KernelHeight;
        int blocks = conv.ChannelBlocks, pairs = (blocks + 1) / 2, padded = pairs * 16;
        int rowQuads = RowQuads(s), leftoverQuads = LeftoverQuads(s), directQuads = kh * rowQuads;
        bool signed = TSigned.Value;
        int zp = a.InputZeroPoint + (signed ? 128 : 0);
        float* scales = stackalloc float[padded];
        int* bias = stackalloc int[padded];
        a.FillChannelConstants(scales, bias, zp);
        for (int o = blocks * 8; o < padded; o++)
        {
            scales[o] = 1f;
            bias[o] = 0;
        }
        // One epilogue state per 16 output channels, filled once per call.
        FieldOutput* outs = stackalloc FieldOutput[pairs];
        int lo = a.Output.Min, hi = a.Output.Max;
        for (int p = 0; p < pairs; p++)
        {
            FieldOutput* o = outs + p;
            *o = default;
            o->Start0 = Vector256.Load(bias + p * 16);
            o->Start1 = Vector256.Load(bias + p * 16 + 8);
            o->Scale = Vector512.Load(scales + p * 16);
            o->Hi = Vector512.Create((float)(hi - a.Output.ZeroPoint));
            o->ZeroPoint = Vector512.Create((short)a.Output.ZeroPoint);
            o->MinBytes = Vector512.Create((byte)lo);
            o->MaxBytes = Vector512.Create((byte)hi);
        }
        // VPERMI2B indices of the leftover quads (two vectors of 64 bytes: quad l of pixel p at byte 32l + 4p) into
        // kernel rows 0|1 and 2|3, and which bytes come from rows 2|3.
        Vector512<byte>* shuffle = stackalloc Vector512<byte>[6];
        LeftoverIndices(s, shuffle);
        // In registers across the groups (the third leftover quad, rare, reads its indices from memory).
        Vector512<byte> first0 = shuffle[0], second0 = shuffle[1], select0 = shuffle[2];
        int rowStride = s.Width * cin, pixelStep = s.StrideWidth * cin;
        long imageBytes = (long)s.Height * rowStride, rowStep = (long)s.DilationHeight * rowStride;
        // Offsets of the whole quads from a group's first tap: in the input, and in the border buffer (rows 64 bytes apart).
        nint* inputOffsets = stackalloc nint[8];
        nint* borderOffsets = stackalloc nint[8];
        for (int ky = 0; ky < kh; ky++)
            for (int j = 0; j < rowQuads; j++)
            {
                inputOffsets[ky * rowQuads + j] = (nint)(ky * rowStep + 4 * j);
                borderOffsets[ky * rowQuads + j] = ky * 64 + 4 * j;
            }
        var flip = Vector256.Create(signed ? (byte)0x80 : (byte)0);
        var flip512 = Vector512.Create(signed ? (byte)0x80 : (byte)0);
        var zpBytes = Vector512.Create((byte)(a.InputZeroPoint & 0xFF));
        int groupLeftover = leftoverQuads * 32;
        int chunkGroups = ChunkPixels / Pixels;
        byte* leftover = stackalloc byte[chunkGroups * MaxLeftoverQuads * 32];
        // The border groups of a chunk keep their segments until they are multiplied.
        byte* border = stackalloc byte[chunkGroups * 4 * 64];
        byte* tail = stackalloc byte[Pixels * 16];
        int outWidth = s.OutWidth, outHeight = s.OutHeight;
        // Groups whose eight pixels' taps all lie inside a row: from the first with ix0 >= 0 to the last whose last tap fits.
        int oxFirstInside = (s.PadLeft + s.StrideWidth - 1) / s.StrideWidth;
        int oxLastInside = (s.Width - s.KernelWidth + s.PadLeft) / s.StrideWidth - (Pixels - 1);
        fixed (T* input = a.Input)
        fixed (T* destination = a.Destination)
        fixed (sbyte* weights = conv.PackedFieldQuads)
        {
            long inputLength = a.Input.Length;
            for (int row = a.RowStart; row < a.RowEnd; row++)
            {
                int n = row / outHeight, oy = row % outHeight, iy0 = oy * s.StrideHeight - s.PadTop;
                byte* image = (byte*)input + n * imageBytes;
                long imageLength = inputLength - n * imageBytes;
                bool rowsInside = iy0 >= 0 && iy0 + (kh - 1) * s.DilationHeight < s.Height;
                // Kernel row 0 at column -PadLeft: group ox starts ox·StrideWidth·InChannels further.
                byte* top = image + (long)iy0 * rowStride - (long)s.PadLeft * cin;
                long lastLoadEnd = rowsInside ? (long)(iy0 + (kh - 1) * s.DilationHeight) * rowStride - (long)s.PadLeft * cin + 64 : long.MaxValue;
                for (int chunk = 0; chunk < outWidth; chunk += ChunkPixels)
                {
                    int chunkEnd = Math.Min(outWidth, chunk + ChunkPixels);
                    // The leftover quads of the whole chunk first: a broadcast that reads a store still in the store
                    // queue waits for it. Border groups also keep their masked segments for the multiply.
                    for (int ox = chunk; ox < chunkEnd; ox += Pixels)
                    {
                        int g = (ox - chunk) / Pixels;
                        bool inside = rowsInside && ox >= oxFirstInside && ox <= oxLastInside && lastLoadEnd + (long)ox * pixelStep <= imageLength;
                        if (leftoverQuads == 0 && inside) continue;
                        byte* src = top + (long)ox * pixelStep;
                        long step = rowStep;
                        if (!inside)
                        {
                            // A group at the image's border: its segments with padding go through a buffer (a method
                            // returning a zmm would pin the segments to memory on the fast path too).
                            src = border + g * 4 * 64;
                            BorderSegments(image, imageLength, iy0, ox * s.StrideWidth - s.PadLeft, s, zpBytes, src);
                            step = 64;
                        }
                        if (leftoverQuads == 0) continue;
                        var r0 = Vector512.Load(src);
                        var r1 = kh > 1 ? Vector512.Load(src + step) : r0;
                        var r2 = kh > 2 ? Vector512.Load(src + 2 * step) : r0;
                        var r3 = kh > 3 ? Vector512.Load(src + 3 * step) : r0;
                        byte* groupLeft = leftover + g * groupLeftover;
                        var v0 = Leftover(r0, r1, r2, r3, first0, second0, select0, kh, flip512, signed);
                        if (leftoverQuads == 1) v0.GetLower().Store(groupLeft);
                        else
                        {
                            v0.Store(groupLeft);
                            if (leftoverQuads == 3) Leftover(r0, r1, r2, r3, shuffle[3], shuffle[4], shuffle[5], kh, flip512, signed).GetLower().Store(groupLeft + 64);
                        }
                    }
                    for (int ox = chunk; ox < chunkEnd; ox += Pixels)
                    {
                        int g = (ox - chunk) / Pixels;
                        int count = Math.Min(Pixels, outWidth - ox);
                        bool inside = rowsInside && ox >= oxFirstInside && ox <= oxLastInside && lastLoadEnd + (long)ox * pixelStep <= imageLength;
                        byte* src = inside ? top + (long)ox * pixelStep : border + g * 4 * 64;
                        nint* offsets = inside ? inputOffsets : borderOffsets;
                        byte* groupLeft = leftover + g * groupLeftover;
                        T* pixelOut = destination + ((long)row * outWidth + ox) * cout;
                        for (int p = 0; p < pairs; p++)
                        {
                            FieldOutput* o = outs + p;
                            bool full = count == Pixels && p * 16 + 16 <= cout;
                            o->C = full ? (byte*)(pixelOut + p * 16) : tail;
                            o->LdcBytes = full ? cout : 16;
                            Tile<TSigned, TFloatClamp, TRgb3x3>(src, offsets, directQuads, pixelStep, groupLeft, leftoverQuads, weights + p * 64, pairs * 64, o, flip);
                            if (!full)
                            {
                                int columns = Math.Min(16, cout - p * 16);
                                for (int j = 0; j < count; j++)
                                    new ReadOnlySpan<byte>(tail + j * 16, columns).CopyTo(new Span<byte>((byte*)(pixelOut + (long)j * cout + p * 16), columns));
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>Leftover bytes [64v, 64v + 64) of a group (quad l of pixel p at 32l + 4p; indices entries 3v..3v + 2), s8 flipped to u8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Leftover(Vector512<byte> r0, Vector512<byte> r1, Vector512<byte> r2, Vector512<byte> r3,
        Vector512<byte> first, Vector512<byte> second, Vector512<byte> select, int kh, Vector512<byte> flip, bool signed)
    {
        var packed = Avx512Vbmi.PermuteVar64x8x2(r0, first, r1);
        if (kh > 2) packed = Avx512BW.BlendVariable(packed, Avx512Vbmi.PermuteVar64x8x2(r2, second, r3), select);
        return signed ? packed ^ flip : packed;
    }

    /// <summary>
    /// 64 bytes of input row <paramref name="iy"/> from column <paramref name="ix0"/> for a group at the image's border: a
    /// masked load that reads only the row's bytes and leaves the raw zero point elsewhere (masked-out bytes are never
    /// touched, so the address may point outside the image).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void BorderSegments(byte* image, long imageLength, int iy0, int ix0, in Conv2DShape s, Vector512<byte> zp, byte* segments)
    {
        for (int ky = 0; ky < s.KernelHeight; ky++) Segment(image, imageLength, iy0 + ky * s.DilationHeight, ix0, s, zp).Store(segments + ky * 64);
    }

    // Inlined into BorderSegments only: one call per border group instead of one per kernel row.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> Segment(byte* image, long imageLength, int iy, int ix0, in Conv2DShape s, Vector512<byte> zp)
    {
        if ((uint)iy >= (uint)s.Height) return zp;
        int cin = s.InChannels;
        long start = ((long)iy * s.Width + ix0) * cin;
        long rowStart = (long)iy * s.Width * cin;
        long lo = Math.Max(0, -(long)ix0 * cin), hi = Math.Min(64, Math.Min((long)s.Width * cin, imageLength - rowStart) - (long)ix0 * cin);
        var iota = Vector512.Create((byte)0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
            29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63);
        if (hi <= lo) return zp;
        var mask = Vector512.GreaterThanOrEqual(iota, Vector512.Create((byte)lo)) & Vector512.LessThan(iota, Vector512.Create((byte)hi));
        return Avx512BW.MaskLoad(image + start, mask, zp);
    }

    /// <summary>
    /// For leftover vector v (bytes [64v, 64v + 64) of a group): byte 32l + 4p + b is leftover byte e = 4l + b of pixel
    /// p, tap <c>4·RowQuads + e % rest</c> of kernel row <c>e / rest</c> (rest = taps per row past its whole quads), byte
    /// <c>p·StrideWidth·InChannels + tap</c> of that row's segment. Entry 3v indexes kernel rows 0 (0..63) and 1
    /// (64..127), entry 3v + 1 rows 2 and 3, entry 3v + 2 marks the bytes taken from the second. Slots past the last
    /// leftover byte pick byte 0: their weights are zero.
    /// </summary>
    private static void LeftoverIndices(in Conv2DShape s, Vector512<byte>* shuffle)
    {
        int rowTaps = s.KernelWidth * s.InChannels, whole = rowTaps / 4, rest = rowTaps % 4, step = s.StrideWidth * s.InChannels;
        int bytes = s.KernelHeight * rest;
        byte* first = stackalloc byte[64];
        byte* second = stackalloc byte[64];
        byte* select = stackalloc byte[64];
        for (int v = 0; v < 2; v++)
        {
            for (int j = 0; j < 64; j++)
            {
                int at = 64 * v + j, l = at / 32, p = at % 32 / 4, e = 4 * l + at % 4;
                int ky = 0, offset = 0;
                if (e < bytes)
                {
                    ky = e / rest;
                    offset = p * step + 4 * whole + e % rest;
                }
                first[j] = (byte)(offset + (ky == 1 ? 64 : 0));
                second[j] = (byte)(offset + (ky == 3 ? 64 : 0));
                select[j] = ky >= 2 ? (byte)0xFF : (byte)0;
            }
            shuffle[3 * v] = Vector512.Load(first);
            shuffle[3 * v + 1] = Vector512.Load(second);
            shuffle[3 * v + 2] = Vector512.Load(select);
        }
    }

    /// <summary>
    /// Eight pixels x 16 output channels: the whole quads broadcast straight from the input rows (pixel p
    /// <paramref name="pixelStep"/> bytes after pixel p - 1), then the leftover quads from the chunk's buffer. The
    /// weights of the two 8-channel blocks are loaded once per quad and serve all eight pixels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile<TSigned, TFloatClamp, TRgb3x3>(byte* src, nint* offsets, int directQuads, nint pixelStep, byte* left, int leftoverQuads,
        sbyte* w, int wStep, FieldOutput* o, Vector256<byte> flip) where TSigned : struct, IFlag where TFloatClamp : struct, IFlag where TRgb3x3 : struct, IFlag
    {
        bool signed = TSigned.Value;
        Vector256<int> c00 = o->Start0, c01 = o->Start1;
        Vector256<int> c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
        Vector256<int> c40 = c00, c41 = c01, c50 = c00, c51 = c01, c60 = c00, c61 = c01, c70 = c00, c71 = c01;
        nint ps = pixelStep, ps3 = 3 * pixelStep;
        // RGB 3x3 (the stem): the six whole quads unrolled, without the loop's counter, offset index and reloads.
        if (TRgb3x3.Value)
        {
            Direct<TSigned>(src + offsets[0], pixelStep, w, flip, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31,
                ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
            Direct<TSigned>(src + offsets[1], pixelStep, w + wStep, flip, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31,
                ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
            Direct<TSigned>(src + offsets[2], pixelStep, w + 2 * wStep, flip, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31,
                ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
            Direct<TSigned>(src + offsets[3], pixelStep, w + 3 * wStep, flip, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31,
                ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
            Direct<TSigned>(src + offsets[4], pixelStep, w + 4 * wStep, flip, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31,
                ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
            Direct<TSigned>(src + offsets[5], pixelStep, w + 5 * wStep, flip, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31,
                ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
            w += 6 * wStep;
        }
        else
        {
            for (int q = 0; q < directQuads; q++, w += wStep)
                Direct<TSigned>(src + offsets[q], pixelStep, w, flip, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31,
                    ref c40, ref c41, ref c50, ref c51, ref c60, ref c61, ref c70, ref c71);
        }
        // Leftover quads are already flipped.
        byte* f = left;
        for (int q = 0; q < leftoverQuads; q++, f += 32, w += wStep)
        {
            var w0 = Vector256.Load(w);
            var w1 = Vector256.Load(w + 32);
            var x = Vector256.Create(*(int*)f).AsByte();
            c00 = AvxVnni.MultiplyWideningAndAdd(c00, x, w0);
            c01 = AvxVnni.MultiplyWideningAndAdd(c01, x, w1);
            x = Vector256.Create(*(int*)(f + 4)).AsByte();
            c10 = AvxVnni.MultiplyWideningAndAdd(c10, x, w0);
            c11 = AvxVnni.MultiplyWideningAndAdd(c11, x, w1);
            x = Vector256.Create(*(int*)(f + 8)).AsByte();
            c20 = AvxVnni.MultiplyWideningAndAdd(c20, x, w0);
            c21 = AvxVnni.MultiplyWideningAndAdd(c21, x, w1);
            x = Vector256.Create(*(int*)(f + 12)).AsByte();
            c30 = AvxVnni.MultiplyWideningAndAdd(c30, x, w0);
            c31 = AvxVnni.MultiplyWideningAndAdd(c31, x, w1);
            x = Vector256.Create(*(int*)(f + 16)).AsByte();
            c40 = AvxVnni.MultiplyWideningAndAdd(c40, x, w0);
            c41 = AvxVnni.MultiplyWideningAndAdd(c41, x, w1);
            x = Vector256.Create(*(int*)(f + 20)).AsByte();
            c50 = AvxVnni.MultiplyWideningAndAdd(c50, x, w0);
            c51 = AvxVnni.MultiplyWideningAndAdd(c51, x, w1);
            x = Vector256.Create(*(int*)(f + 24)).AsByte();
            c60 = AvxVnni.MultiplyWideningAndAdd(c60, x, w0);
            c61 = AvxVnni.MultiplyWideningAndAdd(c61, x, w1);
            x = Vector256.Create(*(int*)(f + 28)).AsByte();
            c70 = AvxVnni.MultiplyWideningAndAdd(c70, x, w0);
            c71 = AvxVnni.MultiplyWideningAndAdd(c71, x, w1);
        }
        Rows4<TSigned, TFloatClamp>(o, 0, c00, c01, c10, c11, c20, c21, c30, c31);
        Rows4<TSigned, TFloatClamp>(o, 4, c40, c41, c50, c51, c60, c61, c70, c71);
    }

    /// <summary>One whole quad of the eight pixels (pixel p at <paramref name="x0"/> + p·<paramref name="ps"/>) into the 16 accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Direct<TSigned>(byte* x0, nint ps, sbyte* w, Vector256<byte> flip,
        ref Vector256<int> c00, ref Vector256<int> c01, ref Vector256<int> c10, ref Vector256<int> c11, ref Vector256<int> c20, ref Vector256<int> c21,
        ref Vector256<int> c30, ref Vector256<int> c31, ref Vector256<int> c40, ref Vector256<int> c41, ref Vector256<int> c50, ref Vector256<int> c51,
        ref Vector256<int> c60, ref Vector256<int> c61, ref Vector256<int> c70, ref Vector256<int> c71) where TSigned : struct, IFlag
    {
        bool signed = TSigned.Value;
        var w0 = Vector256.Load(w);
        var w1 = Vector256.Load(w + 32);
        byte* x3 = x0 + 3 * ps;
        var x = Vector256.Create(*(int*)x0).AsByte();
        if (signed) x ^= flip;
        c00 = AvxVnni.MultiplyWideningAndAdd(c00, x, w0);
        c01 = AvxVnni.MultiplyWideningAndAdd(c01, x, w1);
        x = Vector256.Create(*(int*)(x0 + ps)).AsByte();
        if (signed) x ^= flip;
        c10 = AvxVnni.MultiplyWideningAndAdd(c10, x, w0);
        c11 = AvxVnni.MultiplyWideningAndAdd(c11, x, w1);
        x = Vector256.Create(*(int*)(x0 + ps * 2)).AsByte();
        if (signed) x ^= flip;
        c20 = AvxVnni.MultiplyWideningAndAdd(c20, x, w0);
        c21 = AvxVnni.MultiplyWideningAndAdd(c21, x, w1);
        x = Vector256.Create(*(int*)x3).AsByte();
        if (signed) x ^= flip;
        c30 = AvxVnni.MultiplyWideningAndAdd(c30, x, w0);
        c31 = AvxVnni.MultiplyWideningAndAdd(c31, x, w1);
        x = Vector256.Create(*(int*)(x0 + ps * 4)).AsByte();
        if (signed) x ^= flip;
        c40 = AvxVnni.MultiplyWideningAndAdd(c40, x, w0);
        c41 = AvxVnni.MultiplyWideningAndAdd(c41, x, w1);
        x = Vector256.Create(*(int*)(x3 + ps * 2)).AsByte();
        if (signed) x ^= flip;
        c50 = AvxVnni.MultiplyWideningAndAdd(c50, x, w0);
        c51 = AvxVnni.MultiplyWideningAndAdd(c51, x, w1);
        x = Vector256.Create(*(int*)(x3 + ps * 3)).AsByte();
        if (signed) x ^= flip;
        c60 = AvxVnni.MultiplyWideningAndAdd(c60, x, w0);
        c61 = AvxVnni.MultiplyWideningAndAdd(c61, x, w1);
        x = Vector256.Create(*(int*)(x3 + ps * 4)).AsByte();
        if (signed) x ^= flip;
        c70 = AvxVnni.MultiplyWideningAndAdd(c70, x, w0);
        c71 = AvxVnni.MultiplyWideningAndAdd(c71, x, w1);
    }

    /// <summary>
    /// Four pixels' 16 channels to bytes: the operations of <see cref="QuantizedTileSinkAvx512{TSigned, TUnclamped}"/>
    /// per element (VCVTDQ2PS, VMULPS, the upper clamp, VCVTPS2DQ, the saturating packs, the zero point, the lower clamp),
    /// so the same bits. The upper clamp is a float minimum only when <see cref="FitsWithoutFloatClamp"/> fails, a byte
    /// minimum otherwise; with 16 output channels the four pixels' 64 bytes are contiguous and leave in one store.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Rows4<TSigned, TFloatClamp>(FieldOutput* o, int r, Vector256<int> c0, Vector256<int> c1, Vector256<int> d0, Vector256<int> d1,
        Vector256<int> e0, Vector256<int> e1, Vector256<int> f0, Vector256<int> f1) where TSigned : struct, IFlag where TFloatClamp : struct, IFlag
    {
        var wx = Avx512BW.PackSignedSaturate(Requantize<TFloatClamp>(o, c0, c1), Requantize<TFloatClamp>(o, d0, d1));
        var yz = Avx512BW.PackSignedSaturate(Requantize<TFloatClamp>(o, e0, e1), Requantize<TFloatClamp>(o, f0, f1));
        wx = Avx512BW.AddSaturate(wx, o->ZeroPoint);
        yz = Avx512BW.AddSaturate(yz, o->ZeroPoint);
        Vector512<byte> b;
        if (TSigned.Value)
        {
            var v = Avx512BW.Max(Avx512BW.PackSignedSaturate(wx, yz), o->MinBytes.AsSByte());
            b = (TFloatClamp.Value ? v : Avx512BW.Min(v, o->MaxBytes.AsSByte())).AsByte();
        }
        else
        {
            b = Avx512BW.Max(Avx512BW.PackUnsignedSaturate(wx, yz), o->MinBytes);
            if (!TFloatClamp.Value) b = Avx512BW.Min(b, o->MaxBytes);
        }
        // Within 128-bit lane l the packs leave dword j = pixel j's channels 4l..4l+3; gather pixel j into lane j.
        b = Avx512F.PermuteVar16x32(b.AsInt32(), Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)).AsByte();
        nint ldc = o->LdcBytes;
        byte* c = o->C + r * ldc;
        if (ldc == 16)
        {
            b.Store(c);
            return;
        }
        Avx512F.ExtractVector128(b, 0).Store(c);
        Avx512F.ExtractVector128(b, 1).Store(c + ldc);
        Avx512F.ExtractVector128(b, 2).Store(c + 2 * ldc);
        Avx512F.ExtractVector128(b, 3).Store(c + 3 * ldc);
    }

    /// <summary>One pixel's 16 channels (two 8-channel accumulators) requantized to int32 before the zero point.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Requantize<TFloatClamp>(FieldOutput* o, Vector256<int> c0, Vector256<int> c1) where TFloatClamp : struct, IFlag
    {
        var c = Avx512F.InsertVector256(c0.ToVector512Unsafe(), c1, 1);
        var f = Avx512F.Multiply(Avx512F.ConvertToVector512Single(c), o->Scale);
        return Avx512F.ConvertToVector512Int32(TFloatClamp.Value ? Avx512F.Min(f, o->Hi) : f);
    }

    /// <summary>A call's epilogue state for 16 output channels and where the tile's pixels go.</summary>
    private struct FieldOutput
    {
        public byte* C;
        public nint LdcBytes;
        public Vector256<int> Start0, Start1;
        public Vector512<float> Scale, Hi;
        public Vector512<short> ZeroPoint;
        public Vector512<byte> MinBytes, MaxBytes;
    }
}
