using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// AVX-512BW direct convolution on int16 tap pairs, eight output pixels x 16 output channels per tile (the <c>avx512</c>
/// path's stem: RGB 3x3 stride 2 is 15 pairs per pixel). Per output row, each kernel row's input row is widened once to
/// int16 minus the input zero point into a slot padded with zeros on both sides (rows outside the image are all zeros).
/// A pair is two neighbouring int16 of a slot, so pair p of pixel k is the dword at <c>slot + offset[p] + k · stride ·
/// InChannels</c>: one VPBROADCASTD from memory, no border case. Without dilation along the row a kernel row's taps are
/// contiguous and pair up across pixels' columns (RGB 3x3: 9 taps, 5 pairs; the last pair's second value belongs to the
/// next column and meets a zero weight); with it, pairs stay within one column's channels. A tile keeps eight int32
/// accumulators; each pair loads its 16 channels' weight pairs once and issues eight VPMADDWD + VPADDD. Exact like every
/// integer path (|x − zp| · |w| ≤ 255 · 128 per product, int32 sums wrap as the reference's do); epilogue
/// <see cref="Requantization"/>'s rule (VCVTDQ2PS, VMULPS, clamp, VCVTPS2DQ, zero point, VPMOVDB).
/// </summary>
internal static unsafe class QConvDirect8x16PairsAvx512
{
    private const int Pixels = 8;
    // Row slots up to this many int16 live on the stack; larger ones (long 1-D rows) are rented.
    private const int StackValues = 32 * 1024;

    /// <summary>Whether this kernel can run <paramref name="shape"/> on <paramref name="isa"/>.</summary>
    public static bool Handles(Isa isa, in Conv2DShape shape) =>
        isa is Isa.Avx512 or Isa.Avx512Vnni && Avx512BW.IsSupported && shape.OutChannels % 16 == 0 && shape.Groups == 1;

    /// <summary>
    /// int16 values per row slot: the columns the tiles read (OutWidth rounded up to whole tiles, so a short last tile
    /// reads zeros or neighbours it never stores), at least the padded input row, and one value past the last column
    /// for the second half of an odd row's last pair.
    /// </summary>
    public static int SlotValues(in Conv2DShape s)
    {
        int tiles = (s.OutWidth + Pixels - 1) / Pixels;
        int columns = (tiles * Pixels - 1) * s.StrideWidth + (s.KernelWidth - 1) * s.DilationWidth + 1;
        columns = Math.Max(columns, s.PadLeft + s.Width);
        return columns * s.InChannels + 2;
    }

    /// <summary>
    /// The tap pairs of one receptive field: each pair's first value as an offset from a pixel's first slot value, and
    /// the weights as [OutChannels / 16][pairs][16 channels x 2] int16, 64-byte aligned from <paramref name="start"/> in
    /// the returned pinned array (a pair's missing second tap has weight 0).
    /// </summary>
    public static short[] Pack(in Conv2DShape s, ReadOnlySpan<sbyte> weights, out int start, out int[] offsets)
    {
        int cin = s.InChannels, kh = s.KernelHeight, kw = s.KernelWidth, cout = s.OutChannels, slot = SlotValues(s);
        // Each pair as (ky, first tap, second tap or -1), taps in (kx, c) order within the kernel row.
        var pairs = new List<(int Ky, int First, int Second)>();
        for (int ky = 0; ky < kh; ky++)
        {
            if (s.DilationWidth == 1)
                for (int t = 0; t < kw * cin; t += 2) pairs.Add((ky, t, t + 1 < kw * cin ? t + 1 : -1));
            else
                for (int kx = 0; kx < kw; kx++)
                    for (int c = 0; c < cin; c += 2) pairs.Add((ky, kx * cin + c, c + 1 < cin ? kx * cin + c + 1 : -1));
        }
        offsets = new int[pairs.Count];
        var packed = GC.AllocateArray<short>(cout * pairs.Count * 2 + 32, pinned: true);
        fixed (short* p = packed) start = (int)((64 - ((nint)p & 63)) & 63) / sizeof(short);
        for (int i = 0; i < pairs.Count; i++)
        {
            var (ky, first, second) = pairs[i];
            offsets[i] = ky * slot + first / cin * s.DilationWidth * cin + first % cin;
            for (int o = 0; o < cout; o++)
            {
                int at = start + ((o / 16 * pairs.Count + i) * 16 + o % 16) * 2;
                packed[at] = Weight(s, weights, o, ky, first);
                if (second >= 0) packed[at + 1] = Weight(s, weights, o, ky, second);
            }
        }
        return packed;
    }

    private static sbyte Weight(in Conv2DShape s, ReadOnlySpan<sbyte> weights, int o, int ky, int tap) =>
        weights[((o * s.InChannels + tap % s.InChannels) * s.KernelHeight + ky) * s.KernelWidth + tap / s.InChannels];

    public static void Run<T>(in QConvDirectArgs<T> a) where T : unmanaged
    {
        var s = a.Conv.Shape;
        int slotValues = SlotValues(s);
        int scratch = s.KernelHeight * slotValues;
        if (scratch <= StackValues)
        {
            short* slots = stackalloc short[scratch];
            Run(a, slots, slotValues);
            return;
        }
        short[] rented = ArrayPool<short>.Shared.Rent(scratch);
        try
        {
            fixed (short* slots = rented) Run(a, slots, slotValues);
        }
        finally
        {
            ArrayPool<short>.Shared.Return(rented);
        }
    }

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<T>(in QConvDirectArgs<T> a, short* slots, int slotValues) where T : unmanaged
    {
        var conv = a.Conv;
        var s = conv.Shape;
        int cin = s.InChannels, cout = s.OutChannels, kh = s.KernelHeight;
        int pairs = conv.PairOffsets.Length, blocks = cout / 16, rowBytes = s.Width * cin, outWidth = s.OutWidth;
        new Span<short>(slots, kh * slotValues).Clear();
        float* scales = stackalloc float[cout];
        int* bias = stackalloc int[cout];
        for (int o = 0; o < cout; o++)
        {
            scales[o] = a.Scales.Length == 1 ? a.Scales[0] : a.Scales[o];
            bias[o] = a.Bias.IsEmpty ? 0 : a.Bias[o];
        }
        var (lo, hi) = Requantization.Bounds(a.Output);
        var e = new Epilogue(Vector512.Create(lo), Vector512.Create(hi), Vector512.Create(a.Output.ZeroPoint));
        var zpIn = Vector512.Create((short)a.InputZeroPoint);
        int zp = a.InputZeroPoint;
        nint pixelStep = (nint)s.StrideWidth * cin;
        fixed (T* input = a.Input)
        fixed (T* destination = a.Destination)
        fixed (short* packed = conv.PackedPairs512)
        fixed (int* offsets = conv.PairOffsets)
        {
            short* weights = packed + conv.PackedPairs512Start;
            for (int row = a.RowStart; row < a.RowEnd; row++)
            {
                int n = row / s.OutHeight, oy = row % s.OutHeight;
                T* image = input + (nint)n * s.Height * rowBytes;
                for (int ky = 0; ky < kh; ky++)
                {
                    int iy = oy * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                    short* slot = slots + ky * slotValues + s.PadLeft * cin;
                    if ((uint)iy < (uint)s.Height) WidenRow(image + (nint)iy * rowBytes, slot, rowBytes, zpIn, zp);
                    else new Span<short>(slot, rowBytes).Clear();
                }
                T* rowOut = destination + (nint)row * outWidth * cout;
                for (int ox = 0; ox < outWidth; ox += Pixels)
                {
                    short* first = slots + ox * pixelStep;
                    int count = Math.Min(Pixels, outWidth - ox);
                    for (int b = 0; b < blocks; b++)
                        Tile(first, pixelStep, offsets, pairs, weights + (nint)b * pairs * 32, Vector512.Load(bias + b * 16),
                            Vector512.Load(scales + b * 16), e, rowOut + (nint)ox * cout + b * 16, cout, count);
                }
            }
        }
    }

    /// <summary>One input row (<paramref name="count"/> values) widened to int16 minus the zero point.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WidenRow<T>(T* src, short* dst, int count, Vector512<short> zp, int zpScalar) where T : unmanaged
    {
        int i = 0;
        for (; i + 32 <= count; i += 32)
        {
            Vector512<short> v = typeof(T) == typeof(byte)
                ? Avx512BW.ConvertToVector512Int16(Avx.LoadVector256((byte*)src + i))
                : Avx512BW.ConvertToVector512Int16(Avx.LoadVector256((sbyte*)src + i));
            Vector512.Store(Avx512BW.Subtract(v, zp), dst + i);
        }
        for (; i < count; i++) dst[i] = (short)(Int8.Load(src + i) - zpScalar);
    }

    /// <summary>
    /// Eight pixels (<paramref name="count"/> of them stored) x 16 channels: every pair one weight load and, per pixel, a
    /// broadcast, VPMADDWD and VPADDD.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile<T>(short* first, nint step, int* offsets, int pairs, short* w, Vector512<int> bias, Vector512<float> scale,
        in Epilogue e, T* dst, int cout, int count) where T : unmanaged
    {
        Vector512<int> a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias;
        nint s1 = step, s2 = 2 * step, s3 = 3 * step, s4 = 4 * step, s5 = 5 * step, s6 = 6 * step, s7 = 7 * step;
        for (int i = 0; i < pairs; i++, w += 32)
        {
            short* p = first + offsets[i];
            Vector512<short> wt = Vector512.LoadAligned(w);
            a0 = Avx512F.Add(a0, Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)p).AsInt16(), wt));
            a1 = Avx512F.Add(a1, Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(p + s1)).AsInt16(), wt));
            a2 = Avx512F.Add(a2, Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(p + s2)).AsInt16(), wt));
            a3 = Avx512F.Add(a3, Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(p + s3)).AsInt16(), wt));
            a4 = Avx512F.Add(a4, Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(p + s4)).AsInt16(), wt));
            a5 = Avx512F.Add(a5, Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(p + s5)).AsInt16(), wt));
            a6 = Avx512F.Add(a6, Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(p + s6)).AsInt16(), wt));
            a7 = Avx512F.Add(a7, Avx512BW.MultiplyAddAdjacent(Vector512.Create(*(int*)(p + s7)).AsInt16(), wt));
        }
        if (count == Pixels)
        {
            e.Store(dst, a0, scale);
            e.Store(dst + cout, a1, scale);
            e.Store(dst + 2 * cout, a2, scale);
            e.Store(dst + 3 * cout, a3, scale);
            e.Store(dst + 4 * cout, a4, scale);
            e.Store(dst + 5 * cout, a5, scale);
            e.Store(dst + 6 * cout, a6, scale);
            e.Store(dst + 7 * cout, a7, scale);
            return;
        }
        e.Store(dst, a0, scale);
        if (count > 1) e.Store(dst + cout, a1, scale);
        if (count > 2) e.Store(dst + 2 * cout, a2, scale);
        if (count > 3) e.Store(dst + 3 * cout, a3, scale);
        if (count > 4) e.Store(dst + 4 * cout, a4, scale);
        if (count > 5) e.Store(dst + 5 * cout, a5, scale);
        if (count > 6) e.Store(dst + 6 * cout, a6, scale);
    }

    private readonly struct Epilogue(Vector512<float> lo, Vector512<float> hi, Vector512<int> zeroPoint)
    {
        private readonly Vector512<float> _lo = lo, _hi = hi;
        private readonly Vector512<int> _zeroPoint = zeroPoint;

        /// <summary><see cref="Requantization.Requantize(int, float, float, float, int)"/> on 16 lanes, stored as 16 bytes.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Store<T>(T* dst, Vector512<int> acc, Vector512<float> scale) where T : unmanaged =>
            RequantizationAvx512.Store16(dst, Avx512F.Multiply(Avx512F.ConvertToVector512Single(acc), scale), _lo, _hi, _zeroPoint);
    }
}
