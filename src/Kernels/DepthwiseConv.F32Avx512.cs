using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// Int8 depthwise 3x3 convolution (stride 1 or 2, no dilation, C a multiple of 16) accumulated in fp32 on AVX-512F:
/// 16 channels per ZMM, each tap one VFMADD231PS of the input widened to float (VPMOVZXBD/VPMOVSXBD + VCVTDQ2PS)
/// against the tap's weights kept in registers.
/// <para>
/// Why float gives the same bits: every value summed is an integer, and so is every partial sum; a float holds every
/// integer up to 2^24 exactly, and an FMA whose exact result is representable does not round. So when
/// <c>|bias - zp * sum(w)| + 255 * sum(|w|) &lt;= 2^24</c> for every channel (checked when the weights are prepared; a
/// call that fails it goes to the integer kernels), the float accumulator equals the int32 one in any order, the
/// reference's <c>(float)acc</c> is the same float, and the epilogue (VMULPS, clamp, VCVTPS2DQ, zero point) is
/// <see cref="Requantization"/>'s. The input zero point is folded into the bias (<c>bias - zp * sum(w)</c>), so a tap
/// in the padding reads the zero point like the reference does.
/// </para>
/// <para>
/// Why not VPDPBUSD: a 3x3 tap set fills 9 of VPDPBUSD's 12 byte slots per pixel and 8 channels, and the quads it reads
/// have to be interleaved from the NHWC rows first; at 16 channels per ZMM with two FMA pipes the float form issues
/// fewer instructions per output and reads the rows as they are. Interior output pixels slide along the row (stride
/// 1: one new input column per pixel, 2 at stride 2), three partial sums per pixel (one per kernel row) so the FMA
/// chains are short; pixels whose window leaves the image take the per-tap path.
/// </para>
/// </summary>
internal static unsafe class DepthwiseConv3x3F32Avx512
{
    /// <summary>Per 16-channel block: 9 weight vectors, bias less zp * sum(w), scales (floats, 64 bytes each).</summary>
    private const int BlockBytes = 11 * 64;
    private const long ExactLimit = 1L << 24;

    /// <summary>Shapes this kernel takes (the exactness bound is checked per set of weights, see <see cref="TryRun"/>).</summary>
    public static bool Handles(Isa isa, in WindowGeometry g, int channels) =>
        isa is Isa.Avx512 or Isa.AvxVnni && Avx512F.IsSupported
        && g.KernelHeight == 3 && g.KernelWidth == 3 && g.StrideHeight is 1 or 2 && g.StrideWidth is 1 or 2
        && g.DilationHeight == 1 && g.DilationWidth == 1 && channels % 16 == 0;

    /// <summary>
    /// Runs the call, or returns false (nothing written) when a channel's sums could pass 2^24 and float would round.
    /// The prepared weights are kept in <see cref="DepthwiseArgs{T}.Packed"/> for the node's next calls.
    /// </summary>
    public static bool TryRun<T>(in DepthwiseArgs<T> a) where T : unmanaged
    {
        int bytes = a.Channels / 16 * BlockBytes;
        var ready = DepthwiseX86Prepared.Find(a.Packed, DepthwiseX86Kernel.F32Taps, a.Geometry, a.InputZeroPoint, a.Bias, a.Scales, bytes);
        if (ready is not null)
        {
            Run(a, ready.Start);
            return true;
        }
        byte[] rented = ArrayPool<byte>.Shared.Rent(bytes + 64);
        try
        {
            fixed (byte* block = rented)
            {
                byte* head = (byte*)(((nint)block + 63) & ~(nint)63);
                if (!Prepare(a, head)) return false;
                DepthwiseX86Prepared.Keep(a.Packed, DepthwiseX86Kernel.F32Taps, a.Geometry, a.InputZeroPoint, a.Bias, a.Scales, head, bytes, fits: true);
                Run(a, head);
                return true;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Fills the per-block weights, folded bias and scales; false when some channel fails the exactness bound.</summary>
    private static bool Prepare<T>(in DepthwiseArgs<T> a, byte* head) where T : unmanaged
    {
        int channels = a.Channels, zp = a.InputZeroPoint;
        for (int ch = 0; ch < channels; ch++)
        {
            float* block = (float*)(head + ch / 16 * BlockBytes);
            int lane = ch % 16;
            long sum = 0, sumAbs = 0;
            for (int t = 0; t < 9; t++)
            {
                int w = a.Weights[t * channels + ch];
                block[t * 16 + lane] = w;
                sum += w;
                sumAbs += Math.Abs(w);
            }
            long bias = (a.Bias.IsEmpty ? 0 : a.Bias[ch]) - zp * sum;
            if (Math.Abs(bias) + 255 * sumAbs > ExactLimit) return false;
            block[9 * 16 + lane] = bias;
            block[10 * 16 + lane] = a.Scales[ch];
        }
        return true;
    }

    private static void Run<T>(in DepthwiseArgs<T> a, byte* head) where T : unmanaged
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, width = g.InputWidth, height = g.InputHeight, outWidth = g.OutputWidth;
        int strideY = g.StrideHeight, strideX = g.StrideWidth, padTop = g.PadTop, padLeft = g.PadLeft, blocks = channels / 16;
        var (loS, hiS) = Requantization.Bounds(a.Output);
        var e = new Epilogue(Vector512.Create(loS), Vector512.Create(hiS), Vector512.Create(a.Output.ZeroPoint));
        Vector512<float> zpIn = Vector512.Create((float)a.InputZeroPoint);
        // Output pixels whose three input columns are all inside the row: [inLo, inHi).
        int inLo = Math.Min((padLeft + strideX - 1) / strideX, outWidth);
        int inHi = width - 3 + padLeft >= 0 ? Math.Min((width - 3 + padLeft) / strideX + 1, outWidth) : 0;
        if (inHi < inLo) inHi = inLo;
        nint rowBytes = (nint)width * channels;
        fixed (T* input = a.Input)
        fixed (T* output = a.Destination)
        {
            for (int oy = a.RowStart; oy < a.RowEnd; oy++)
            {
                int iy0 = oy * strideY - padTop;
                bool rowsInside = iy0 >= 0 && iy0 + 2 < height;
                T* dstRow = output + (nint)oy * outWidth * channels;
                for (int b = 0; b < blocks; b++)
                {
                    float* w = (float*)(head + b * BlockBytes);
                    T* dst = dstRow + b * 16;
                    if (!rowsInside)
                    {
                        for (int ox = 0; ox < outWidth; ox++)
                            Pixel(input + b * 16, w, g, channels, iy0, ox * strideX - padLeft, zpIn, dst + ox * channels, e);
                        continue;
                    }
                    for (int ox = 0; ox < inLo; ox++)
                        Pixel(input + b * 16, w, g, channels, iy0, ox * strideX - padLeft, zpIn, dst + ox * channels, e);
                    if (inHi > inLo)
                    {
                        T* row0 = input + iy0 * rowBytes + (nint)(inLo * strideX - padLeft) * channels + b * 16;
                        if (strideX == 1) SlideStride1(row0, rowBytes, channels, w, dst + (nint)inLo * channels, inHi - inLo, e);
                        else SlideStride2(row0, rowBytes, channels, w, dst + (nint)inLo * channels, inHi - inLo, e);
                    }
                    for (int ox = inHi; ox < outWidth; ox++)
                        Pixel(input + b * 16, w, g, channels, iy0, ox * strideX - padLeft, zpIn, dst + ox * channels, e);
                }
            }
        }
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
            // Every lane is within the output type's range after the clamp, so truncating to bytes is exact.
            if (typeof(T) == typeof(byte)) Sse2.Store((byte*)dst, Avx512F.ConvertToVector128Byte(q));
            else Sse2.Store((sbyte*)dst, Avx512F.ConvertToVector128SByte(q));
        }
    }

    /// <summary>16 input values widened to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load<T>(T* p) where T : unmanaged =>
        typeof(T) == typeof(byte)
            ? Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Sse2.LoadVector128((byte*)p)))
            : Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Sse2.LoadVector128((sbyte*)p)));

    /// <summary>One output pixel whose window may leave the image: taps outside read the input zero point.</summary>
    private static void Pixel<T>(T* input, float* w, in WindowGeometry g, int channels, int iy0, int ix0, Vector512<float> zpIn,
        T* dst, in Epilogue e) where T : unmanaged
    {
        Vector512<float> acc = Avx512F.LoadAlignedVector512(w + 9 * 16);
        for (int ky = 0; ky < 3; ky++)
        {
            int iy = iy0 + ky;
            bool rowInside = (uint)iy < (uint)g.InputHeight;
            for (int kx = 0; kx < 3; kx++)
            {
                int ix = ix0 + kx;
                Vector512<float> x = rowInside && (uint)ix < (uint)g.InputWidth ? Load(input + ((nint)iy * g.InputWidth + ix) * channels) : zpIn;
                acc = Avx512F.FusedMultiplyAdd(x, Avx512F.LoadAlignedVector512(w + (ky * 3 + kx) * 16), acc);
            }
        }
        e.Store(dst, acc, Avx512F.LoadAlignedVector512(w + 10 * 16));
    }

    /// <summary>
    /// <paramref name="count"/> interior pixels at stride 1 from <paramref name="p"/> (the first pixel's top-left input):
    /// each pixel loads one new input column and reuses the two before it.
    /// </summary>
    private static void SlideStride1<T>(T* p, nint rowBytes, int channels, float* w, T* dst, int count, in Epilogue e) where T : unmanaged
    {
        Vector512<float> w0 = Avx512F.LoadAlignedVector512(w), w1 = Avx512F.LoadAlignedVector512(w + 16), w2 = Avx512F.LoadAlignedVector512(w + 32);
        Vector512<float> w3 = Avx512F.LoadAlignedVector512(w + 48), w4 = Avx512F.LoadAlignedVector512(w + 64), w5 = Avx512F.LoadAlignedVector512(w + 80);
        Vector512<float> w6 = Avx512F.LoadAlignedVector512(w + 96), w7 = Avx512F.LoadAlignedVector512(w + 112), w8 = Avx512F.LoadAlignedVector512(w + 128);
        Vector512<float> bias = Avx512F.LoadAlignedVector512(w + 144), scale = Avx512F.LoadAlignedVector512(w + 160);
        T* p1 = p + rowBytes, p2 = p + 2 * rowBytes;
        Vector512<float> a0 = Load(p), a1 = Load(p1), a2 = Load(p2);
        Vector512<float> b0 = Load(p + channels), b1 = Load(p1 + channels), b2 = Load(p2 + channels);
        nint step = channels, next = 2 * step;
        for (int i = 0; i < count; i++)
        {
            Vector512<float> c0 = Load(p + next), c1 = Load(p1 + next), c2 = Load(p2 + next);
            Vector512<float> s0 = Avx512F.FusedMultiplyAdd(c0, w2, Avx512F.FusedMultiplyAdd(b0, w1, Avx512F.FusedMultiplyAdd(a0, w0, bias)));
            Vector512<float> s1 = Avx512F.FusedMultiplyAdd(c1, w5, Avx512F.FusedMultiplyAdd(b1, w4, Avx512F.Multiply(a1, w3)));
            Vector512<float> s2 = Avx512F.FusedMultiplyAdd(c2, w8, Avx512F.FusedMultiplyAdd(b2, w7, Avx512F.Multiply(a2, w6)));
            e.Store(dst, Avx512F.Add(Avx512F.Add(s0, s1), s2), scale);
            a0 = b0; a1 = b1; a2 = b2;
            b0 = c0; b1 = c1; b2 = c2;
            p += step; p1 += step; p2 += step;
            dst += step;
        }
    }

    /// <summary>The same at stride 2: each pixel loads two new input columns and reuses the last column of the one before.</summary>
    private static void SlideStride2<T>(T* p, nint rowBytes, int channels, float* w, T* dst, int count, in Epilogue e) where T : unmanaged
    {
        Vector512<float> w0 = Avx512F.LoadAlignedVector512(w), w1 = Avx512F.LoadAlignedVector512(w + 16), w2 = Avx512F.LoadAlignedVector512(w + 32);
        Vector512<float> w3 = Avx512F.LoadAlignedVector512(w + 48), w4 = Avx512F.LoadAlignedVector512(w + 64), w5 = Avx512F.LoadAlignedVector512(w + 80);
        Vector512<float> w6 = Avx512F.LoadAlignedVector512(w + 96), w7 = Avx512F.LoadAlignedVector512(w + 112), w8 = Avx512F.LoadAlignedVector512(w + 128);
        Vector512<float> bias = Avx512F.LoadAlignedVector512(w + 144), scale = Avx512F.LoadAlignedVector512(w + 160);
        T* p1 = p + rowBytes, p2 = p + 2 * rowBytes;
        Vector512<float> a0 = Load(p), a1 = Load(p1), a2 = Load(p2);
        nint step = channels, twoSteps = 2 * step;
        for (int i = 0; i < count; i++)
        {
            Vector512<float> b0 = Load(p + step), b1 = Load(p1 + step), b2 = Load(p2 + step);
            Vector512<float> c0 = Load(p + twoSteps), c1 = Load(p1 + twoSteps), c2 = Load(p2 + twoSteps);
            Vector512<float> s0 = Avx512F.FusedMultiplyAdd(c0, w2, Avx512F.FusedMultiplyAdd(b0, w1, Avx512F.FusedMultiplyAdd(a0, w0, bias)));
            Vector512<float> s1 = Avx512F.FusedMultiplyAdd(c1, w5, Avx512F.FusedMultiplyAdd(b1, w4, Avx512F.Multiply(a1, w3)));
            Vector512<float> s2 = Avx512F.FusedMultiplyAdd(c2, w8, Avx512F.FusedMultiplyAdd(b2, w7, Avx512F.Multiply(a2, w6)));
            e.Store(dst, Avx512F.Add(Avx512F.Add(s0, s1), s2), scale);
            a0 = c0; a1 = c1; a2 = c2;
            p += twoSteps; p1 += twoSteps; p2 += twoSteps;
            dst += step;
        }
    }
}
