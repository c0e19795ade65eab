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
        isa is Isa.Avx512 or Isa.Avx512Vnni or Isa.AvxVnni && Avx512F.IsSupported
        && Depthwise3x3Avx512.Takes(g, channels);

    /// <summary>
    /// Runs the call, or returns false (nothing written) when a channel's sums could pass 2^24 and float would round.
    /// The prepared weights are kept in <see cref="DepthwiseArgs{T}.Packed"/> for the node's next calls.
    /// </summary>
    public static bool TryRun<T>(in DepthwiseArgs<T> a) where T : unmanaged => Depthwise3x3Avx512.Run<T, Kernel>(a);

    private readonly struct Kernel : IDepthwise3x3Avx512Kernel
    {
        public static DepthwiseX86Kernel Kind => DepthwiseX86Kernel.F32Taps;
        public static int BlockBytes => DepthwiseConv3x3F32Avx512.BlockBytes;

        public static bool Prepare<T>(in DepthwiseArgs<T> a, byte* head) where T : unmanaged => DepthwiseConv3x3F32Avx512.Prepare(a, head);

        public static void Block<T>(in Depthwise3x3Rows<T> r, byte* prepared, T* output, int c, in Depthwise3x3Epilogue e) where T : unmanaged =>
            DepthwiseConv3x3F32Avx512.Block(r, (float*)prepared, output, c, e);
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

    /// <summary>Column <paramref name="ix"/> of a row widened to float, or the zero point left or right of the image.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Column<T>(in Depthwise3x3Rows<T> r, T* row, int ix, Vector512<float> zeroPoint) where T : unmanaged =>
        (uint)ix < (uint)r.Width ? Load(row + (nint)ix * r.Channels) : zeroPoint;

    /// <summary>
    /// One 16-channel block over all the call's output rows, its weights held in registers: border pixels column by
    /// column, interior pixels sliding along the row (stride 1: one new input column per pixel, stride 2: two).
    /// Three partial sums per pixel, one per kernel row, keep the FMA chains short.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<T>(in Depthwise3x3Rows<T> r, float* w, T* output, int c, in Depthwise3x3Epilogue e) where T : unmanaged
    {
        Vector512<float> w0 = Avx512F.LoadAlignedVector512(w), w1 = Avx512F.LoadAlignedVector512(w + 16), w2 = Avx512F.LoadAlignedVector512(w + 32);
        Vector512<float> w3 = Avx512F.LoadAlignedVector512(w + 48), w4 = Avx512F.LoadAlignedVector512(w + 64), w5 = Avx512F.LoadAlignedVector512(w + 80);
        Vector512<float> w6 = Avx512F.LoadAlignedVector512(w + 96), w7 = Avx512F.LoadAlignedVector512(w + 112), w8 = Avx512F.LoadAlignedVector512(w + 128);
        Vector512<float> bias = Avx512F.LoadAlignedVector512(w + 144), scale = Avx512F.LoadAlignedVector512(w + 160);
        nint step = r.Channels;
        int inLo = r.InLo, inHi = r.InHi, outWidth = r.OutWidth, strideX = r.StrideX;
        Vector512<float> zp = Vector512.Create((float)r.InputZeroPoint), lo = e.Lo, hi = e.Hi;
        Vector512<int> zpOut = e.ZeroPoint;
        bool leftPad = r.LeftPad, rightPad = r.RightPad;
        for (int oy = r.RowStart; oy < r.RowEnd; oy++)
        {
            int iy0 = oy * r.StrideY - r.PadTop;
            T* p0 = r.Row(iy0, c), p1 = r.Row(iy0 + 1, c), p2 = r.Row(iy0 + 2, c);
            T* dst = output + (nint)oy * outWidth * step;
            // With one column of left padding the first pixel slides in from a zero-point column (MobileNet's 'same'
            // padding), and with one column missing on the right so does the last; other borders go column by column.
            int ox = leftPad ? 0 : inLo;
            if (!leftPad)
                for (int x = 0; x < inLo; x++) BorderPixel(r, p0, p1, p2, x, dst, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias, scale, lo, hi, zpOut);
            if (inHi > ox)
            {
                nint first = (nint)(ox * strideX - r.PadLeft) * step;
                T* q0 = p0 + first, q1 = p1 + first, q2 = p2 + first, d = dst + ox * step;
                Vector512<float> a0 = zp, a1 = zp, a2 = zp;
                if (!leftPad)
                {
                    a0 = Load(q0); a1 = Load(q1); a2 = Load(q2);
                }
                if (strideX == 1)
                {
                    Vector512<float> b0 = Load(q0 + step), b1 = Load(q1 + step), b2 = Load(q2 + step);
                    for (; ox < inHi; ox++)
                    {
                        Vector512<float> c0 = Load(q0 + 2 * step), c1 = Load(q1 + 2 * step), c2 = Load(q2 + 2 * step);
                        RequantizationAvx512.Store16(d, Avx512F.Multiply(Sum(a0, b0, c0, a1, b1, c1, a2, b2, c2, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias), scale), lo, hi, zpOut);
                        a0 = b0; a1 = b1; a2 = b2;
                        b0 = c0; b1 = c1; b2 = c2;
                        q0 += step; q1 += step; q2 += step;
                        d += step;
                    }
                    if (rightPad)
                    {
                        RequantizationAvx512.Store16(d, Avx512F.Multiply(Sum(a0, b0, zp, a1, b1, zp, a2, b2, zp, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias), scale), lo, hi, zpOut);
                        ox++;
                    }
                }
                else
                {
                    for (; ox < inHi; ox++)
                    {
                        Vector512<float> b0 = Load(q0 + step), b1 = Load(q1 + step), b2 = Load(q2 + step);
                        Vector512<float> c0 = Load(q0 + 2 * step), c1 = Load(q1 + 2 * step), c2 = Load(q2 + 2 * step);
                        RequantizationAvx512.Store16(d, Avx512F.Multiply(Sum(a0, b0, c0, a1, b1, c1, a2, b2, c2, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias), scale), lo, hi, zpOut);
                        a0 = c0; a1 = c1; a2 = c2;
                        q0 += 2 * step; q1 += 2 * step; q2 += 2 * step;
                        d += step;
                    }
                    if (rightPad)
                    {
                        Vector512<float> b0 = Load(q0 + step), b1 = Load(q1 + step), b2 = Load(q2 + step);
                        RequantizationAvx512.Store16(d, Avx512F.Multiply(Sum(a0, b0, zp, a1, b1, zp, a2, b2, zp, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias), scale), lo, hi, zpOut);
                        ox++;
                    }
                }
            }
            for (; ox < outWidth; ox++)
                BorderPixel(r, p0, p1, p2, ox, dst, w0, w1, w2, w3, w4, w5, w6, w7, w8, bias, scale, lo, hi, zpOut);
        }
    }

    /// <summary>An output pixel whose window leaves the row on the left or right: columns outside read the zero point.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BorderPixel<T>(in Depthwise3x3Rows<T> r, T* p0, T* p1, T* p2, int ox, T* dst,
        Vector512<float> w0, Vector512<float> w1, Vector512<float> w2, Vector512<float> w3, Vector512<float> w4,
        Vector512<float> w5, Vector512<float> w6, Vector512<float> w7, Vector512<float> w8, Vector512<float> bias,
        Vector512<float> scale, Vector512<float> lo, Vector512<float> hi, Vector512<int> zpOut) where T : unmanaged
    {
        int ix = ox * r.StrideX - r.PadLeft;
        Vector512<float> zp = Vector512.Create((float)r.InputZeroPoint);
        Vector512<float> sum = Sum(
            Column(r, p0, ix, zp), Column(r, p0, ix + 1, zp), Column(r, p0, ix + 2, zp),
            Column(r, p1, ix, zp), Column(r, p1, ix + 1, zp), Column(r, p1, ix + 2, zp),
            Column(r, p2, ix, zp), Column(r, p2, ix + 1, zp), Column(r, p2, ix + 2, zp),
            w0, w1, w2, w3, w4, w5, w6, w7, w8, bias);
        RequantizationAvx512.Store16(dst + ox * (nint)r.Channels, Avx512F.Multiply(sum, scale), lo, hi, zpOut);
    }

    /// <summary>bias + the nine taps (x00 x01 x02 the window's top row), as three per-row partial sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Sum(
        Vector512<float> x00, Vector512<float> x01, Vector512<float> x02,
        Vector512<float> x10, Vector512<float> x11, Vector512<float> x12,
        Vector512<float> x20, Vector512<float> x21, Vector512<float> x22,
        Vector512<float> w0, Vector512<float> w1, Vector512<float> w2, Vector512<float> w3, Vector512<float> w4,
        Vector512<float> w5, Vector512<float> w6, Vector512<float> w7, Vector512<float> w8, Vector512<float> bias)
    {
        Vector512<float> s0 = Avx512F.FusedMultiplyAdd(x02, w2, Avx512F.FusedMultiplyAdd(x01, w1, Avx512F.FusedMultiplyAdd(x00, w0, bias)));
        Vector512<float> s1 = Avx512F.FusedMultiplyAdd(x12, w5, Avx512F.FusedMultiplyAdd(x11, w4, Avx512F.Multiply(x10, w3)));
        Vector512<float> s2 = Avx512F.FusedMultiplyAdd(x22, w8, Avx512F.FusedMultiplyAdd(x21, w7, Avx512F.Multiply(x20, w6)));
        return Avx512F.Add(Avx512F.Add(s0, s1), s2);
    }

    /// <summary>16 input values widened to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Load<T>(T* p) where T : unmanaged =>
        typeof(T) == typeof(byte)
            ? Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Sse2.LoadVector128((byte*)p)))
            : Avx512F.ConvertToVector512Single(Avx512F.ConvertToVector512Int32(Sse2.LoadVector128((sbyte*)p)));
}
