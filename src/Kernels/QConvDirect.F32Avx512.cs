using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// AVX-512F direct convolution accumulated exactly in fp32, eight output pixels x 16 output channels per tile (the
/// <c>avx512</c> path's stem: RGB 3x3 stride 2 is 27 taps per pixel). Per output row, each kernel row's input row is
/// converted once to float minus the input zero point into a slot padded with zeros on both sides (rows outside the
/// image are all zeros), so every tap of every pixel is a plain load: tap t of pixel k is the float at
/// <c>slot + offset[t] + k · stride · InChannels</c>. A tile keeps eight accumulators (one per pixel); each tap loads
/// its 16 weights once and issues eight VFMADD231PS with the pixels' values broadcast. Epilogue:
/// <see cref="Requantization"/>'s rule (VMULPS, clamp, VCVTPS2DQ, zero point, VPMOVDB).
/// <para>
/// Why float gives the same bits: every product (x − zp)·w and every partial sum is an integer, a float holds every
/// integer up to 2^24 exactly, and an FMA whose exact result is representable does not round. With
/// <c>|x − zp| ≤ D</c> (D = the larger distance from the zero point to the type's ends) every partial sum is at most
/// <c>|bias| + D · Σ|w|</c>; when that is ≤ 2^24 for every channel (checked per call from the per-channel Σ|w| computed
/// when the weights were packed: Cout values), the float accumulator is the int32 one in any order, and
/// <c>(float)acc</c> in the reference is the same float. A call that fails the bound returns false and runs the integer
/// kernel (<see cref="QConvDirectAvx2"/>).
/// </para>
/// <para>
/// Throughput: FMA-bound, one 512-bit FMA per cycle on Zen 4, so taps cycles per output pixel and 16 channels (27 for
/// the RGB stem) against ~2 x 14 VPMADDWD + VPADDD on 256-bit vectors for the integer kernel's 8-channel blocks.
/// </para>
/// </summary>
internal static unsafe class QConvDirect8x16F32Avx512
{
    private const int Pixels = 8;
    private const long ExactLimit = 1L << 24;
    // Row slots up to this many floats live on the stack; larger ones (long 1-D rows) are rented.
    private const int StackFloats = 16 * 1024;

    /// <summary>Whether this kernel can run <paramref name="shape"/> on <paramref name="isa"/> (the exactness bound is per call).</summary>
    public static bool Handles(Isa isa, in Conv2DShape shape) =>
        isa == Isa.Avx512 && Avx512F.IsSupported && shape.OutChannels % 16 == 0 && shape.Groups == 1;

    /// <summary>
    /// Packs <paramref name="weights"/> ([OutChannels][InChannels][KernelHeight][KernelWidth]) as
    /// [OutChannels / 16][KernelHeight x KernelWidth x InChannels taps, (ky, kx, c) order][16] floats, 64-byte aligned
    /// from <paramref name="start"/> in the returned pinned array.
    /// </summary>
    public static float[] Pack(in Conv2DShape shape, ReadOnlySpan<sbyte> weights, out int start)
    {
        int cin = shape.InChannels, kh = shape.KernelHeight, kw = shape.KernelWidth, cout = shape.OutChannels;
        int taps = kh * kw * cin;
        var packed = GC.AllocateArray<float>(cout * taps + 16, pinned: true);
        fixed (float* p = packed) start = (int)((64 - ((nint)p & 63)) & 63) / sizeof(float);
        for (int o = 0; o < cout; o++)
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++)
                    for (int c = 0; c < cin; c++)
                    {
                        int tap = (ky * kw + kx) * cin + c;
                        packed[start + ((o / 16) * taps + tap) * 16 + o % 16] = weights[((o * cin + c) * kh + ky) * kw + kx];
                    }
        return packed;
    }

    /// <summary>The largest |x − zp| of the element type: how far a tap can sit from the zero point.</summary>
    private static int MaxDistance<T>(int zp) where T : unmanaged =>
        typeof(T) == typeof(byte) ? Math.Max(zp, 255 - zp) : Math.Max(zp + 128, 127 - zp);

    /// <summary>Runs the call, or returns false (nothing written) when some channel's partial sums could pass 2^24.</summary>
    public static bool TryRun<T>(in QConvDirectArgs<T> a) where T : unmanaged
    {
        var conv = a.Conv;
        long distance = MaxDistance<T>(a.InputZeroPoint);
        for (int o = 0; o < conv.Shape.OutChannels; o++)
        {
            long bias = a.Bias.IsEmpty ? 0 : a.Bias[o];
            if (Math.Abs(bias) + distance * conv.ChannelAbsSums[o] > ExactLimit) return false;
        }
        var s = conv.Shape;
        int slotFloats = SlotFloats(s);
        int scratch = s.KernelHeight * slotFloats;
        if (scratch <= StackFloats)
        {
            float* slots = stackalloc float[scratch];
            Run(a, slots, slotFloats);
            return true;
        }
        float[] rented = ArrayPool<float>.Shared.Rent(scratch);
        try
        {
            fixed (float* slots = rented) Run(a, slots, slotFloats);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(rented);
        }
        return true;
    }

    /// <summary>
    /// Floats per row slot: the columns the tiles read (OutWidth rounded up to whole tiles, so a short last tile reads
    /// zeros or neighbours it never stores) and at least the padded input row.
    /// </summary>
    private static int SlotFloats(in Conv2DShape s)
    {
        int tiles = (s.OutWidth + Pixels - 1) / Pixels;
        int columns = (tiles * Pixels - 1) * s.StrideWidth + (s.KernelWidth - 1) * s.DilationWidth + 1;
        columns = Math.Max(columns, s.PadLeft + s.Width);
        return columns * s.InChannels;
    }

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<T>(in QConvDirectArgs<T> a, float* slots, int slotFloats) where T : unmanaged
    {
        var conv = a.Conv;
        var s = conv.Shape;
        int cin = s.InChannels, cout = s.OutChannels, kh = s.KernelHeight, kw = s.KernelWidth;
        int taps = kh * kw * cin, blocks = cout / 16, rowBytes = s.Width * cin, outWidth = s.OutWidth;
        new Span<float>(slots, kh * slotFloats).Clear();
        // Tap t's offset from a pixel's first slot float: its slot, its column, its channel.
        int* offsets = stackalloc int[taps];
        for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++)
                for (int c = 0; c < cin; c++)
                    offsets[(ky * kw + kx) * cin + c] = ky * slotFloats + kx * s.DilationWidth * cin + c;
        float* scales = stackalloc float[cout];
        float* bias = stackalloc float[cout];
        for (int o = 0; o < cout; o++)
        {
            scales[o] = a.Scales.Length == 1 ? a.Scales[0] : a.Scales[o];
            bias[o] = a.Bias.IsEmpty ? 0 : a.Bias[o]; // |bias| <= 2^24 (TryRun's bound): exact
        }
        var (lo, hi) = Requantization.Bounds(a.Output);
        var e = new Epilogue(Vector512.Create(lo), Vector512.Create(hi), Vector512.Create(a.Output.ZeroPoint));
        var zpIn = Vector512.Create((float)a.InputZeroPoint);
        float zpScalar = a.InputZeroPoint;
        nint pixelStep = (nint)s.StrideWidth * cin;
        fixed (T* input = a.Input)
        fixed (T* destination = a.Destination)
        fixed (float* packed = conv.PackedFloatTaps)
        {
            float* weights = packed + conv.PackedFloatStart;
            for (int row = a.RowStart; row < a.RowEnd; row++)
            {
                int n = row / s.OutHeight, oy = row % s.OutHeight;
                T* image = input + (nint)n * s.Height * rowBytes;
                for (int ky = 0; ky < kh; ky++)
                {
                    int iy = oy * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                    float* slot = slots + ky * slotFloats + s.PadLeft * cin;
                    if ((uint)iy < (uint)s.Height) ConvertRow(image + (nint)iy * rowBytes, slot, rowBytes, zpIn, zpScalar);
                    else new Span<float>(slot, rowBytes).Clear();
                }
                T* rowOut = destination + (nint)row * outWidth * cout;
                for (int ox = 0; ox < outWidth; ox += Pixels)
                {
                    float* first = slots + ox * pixelStep;
                    int count = Math.Min(Pixels, outWidth - ox);
                    for (int b = 0; b < blocks; b++)
                        Tile(first, pixelStep, offsets, taps, weights + (nint)b * taps * 16, Vector512.Load(bias + b * 16),
                            Vector512.Load(scales + b * 16), e, rowOut + (nint)ox * cout + b * 16, cout, count);
                }
            }
        }
    }

    /// <summary>One input row (<paramref name="count"/> values) as floats minus the zero point.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ConvertRow<T>(T* src, float* dst, int count, Vector512<float> zp, float zpScalar) where T : unmanaged
    {
        int i = 0;
        for (; i + 16 <= count; i += 16)
        {
            Vector512<int> v = typeof(T) == typeof(byte)
                ? Avx512F.ConvertToVector512Int32(Sse2.LoadVector128((byte*)src + i))
                : Avx512F.ConvertToVector512Int32(Sse2.LoadVector128((sbyte*)src + i));
            Vector512.Store(Avx512F.Subtract(Avx512F.ConvertToVector512Single(v), zp), dst + i);
        }
        for (; i < count; i++) dst[i] = Int8.Load(src + i) - zpScalar;
    }

    /// <summary>
    /// Eight pixels (<paramref name="count"/> of them stored) x 16 channels: every tap one weight load and eight FMAs with
    /// the pixels' values broadcast.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile<T>(float* first, nint step, int* offsets, int taps, float* w, Vector512<float> bias, Vector512<float> scale,
        in Epilogue e, T* dst, int cout, int count) where T : unmanaged
    {
        Vector512<float> a0 = bias, a1 = bias, a2 = bias, a3 = bias, a4 = bias, a5 = bias, a6 = bias, a7 = bias;
        nint s1 = step, s2 = 2 * step, s3 = 3 * step, s4 = 4 * step, s5 = 5 * step, s6 = 6 * step, s7 = 7 * step;
        for (int t = 0; t < taps; t++, w += 16)
        {
            float* p = first + offsets[t];
            Vector512<float> wt = Vector512.LoadAligned(w);
            a0 = Avx512F.FusedMultiplyAdd(Vector512.Create(p[0]), wt, a0);
            a1 = Avx512F.FusedMultiplyAdd(Vector512.Create(p[s1]), wt, a1);
            a2 = Avx512F.FusedMultiplyAdd(Vector512.Create(p[s2]), wt, a2);
            a3 = Avx512F.FusedMultiplyAdd(Vector512.Create(p[s3]), wt, a3);
            a4 = Avx512F.FusedMultiplyAdd(Vector512.Create(p[s4]), wt, a4);
            a5 = Avx512F.FusedMultiplyAdd(Vector512.Create(p[s5]), wt, a5);
            a6 = Avx512F.FusedMultiplyAdd(Vector512.Create(p[s6]), wt, a6);
            a7 = Avx512F.FusedMultiplyAdd(Vector512.Create(p[s7]), wt, a7);
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
        public void Store<T>(T* dst, Vector512<float> acc, Vector512<float> scale) where T : unmanaged
        {
            Vector512<float> v = Avx512F.Min(Avx512F.Max(Avx512F.Multiply(acc, scale), _lo), _hi);
            Vector512<int> q = Avx512F.Add(Avx512F.ConvertToVector512Int32(v), _zeroPoint);
            // After the clamp every lane is within the output type's range, so keeping the low byte is exact.
            if (typeof(T) == typeof(byte)) Sse2.Store((byte*)dst, Avx512F.ConvertToVector128Byte(q));
            else Sse2.Store((sbyte*)dst, Avx512F.ConvertToVector128SByte(q));
        }
    }
}
