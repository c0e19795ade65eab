using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// Int8 depthwise 3x3 convolution (stride 1 or 2, no dilation, C a multiple of 16) on int16 tap pairs with
/// AVX-512BW VPMADDWD, 16 channels per ZMM, accumulated exactly in int32 (no bound on the weights).
/// <para>
/// Pairs run down a column: per input column, kernel rows 0 and 1 are interleaved once as int16 pairs (two 16-byte
/// loads and VINSERTI128, then for u8 one VPERMT2B against a zero table, for s8 VPERMB + VPMOVSXBW) and row 2 is widened to dwords (x, 0) by VPMOVZXBD; the column is reused
/// by every output pixel whose window covers it (three at stride 1, so one new column per pixel), each with its own
/// weight pairs (w[0][k], w[1][k]) and (w[2][k], 0). That is 6 VPMADDWD + 6 VPADDD per 16-channel output instead of
/// the 9 VFMADD231PS of <see cref="DepthwiseConv3x3F32Avx512"/>. (A sign-extended s8 row-2 value has 0xFFFF in its
/// high half; its weight there is 0.) The input zero point is folded into the bias (<c>bias - zp * sum(w)</c>, equal
/// to the reference's sum modulo 2^32), so a tap in the padding reads the zero point like the reference does.
/// </para>
/// </summary>
internal static unsafe class DepthwiseConv3x3RowPairsAvx512
{
    /// <summary>Per 16-channel block: 3 pair vectors (rows 0/1), 3 single vectors (row 2), bias, scales (64 bytes each).</summary>
    private const int BlockBytes = 8 * 64;

    public static bool Handles(Isa isa, in WindowGeometry g, int channels) =>
        isa is Isa.Avx512 or Isa.Avx512Vnni or Isa.AvxVnni && Avx512BW.IsSupported && Avx512Vbmi.VL.IsSupported
        && Depthwise3x3Avx512.Takes(g, channels);

    public static void Run<T>(in DepthwiseArgs<T> a) where T : unmanaged => Depthwise3x3Avx512.Run<T, Kernel>(a);

    private readonly struct Kernel : IDepthwise3x3Avx512Kernel
    {
        public static DepthwiseX86Kernel Kind => DepthwiseX86Kernel.RowPairs16;
        public static int BlockBytes => DepthwiseConv3x3RowPairsAvx512.BlockBytes;

        public static bool Prepare<T>(in DepthwiseArgs<T> a, byte* head) where T : unmanaged
        {
            DepthwiseConv3x3RowPairsAvx512.Prepare(a, head);
            return true;
        }

        public static void Block<T>(in Depthwise3x3Rows<T> r, byte* prepared, T* output, int c, in Depthwise3x3Epilogue e) where T : unmanaged =>
            DepthwiseConv3x3RowPairsAvx512.Block(r, prepared, output, c, e);
    }

    /// <summary>Fills the per-block weight pairs, the bias less zp * sum(w) (wrapping like the reference's int32) and the scales.</summary>
    private static void Prepare<T>(in DepthwiseArgs<T> a, byte* head) where T : unmanaged
    {
        int channels = a.Channels, zp = a.InputZeroPoint;
        for (int ch = 0; ch < channels; ch++)
        {
            byte* block = head + ch / 16 * BlockBytes;
            short* pairs = (short*)block, singles = (short*)(block + 3 * 64);
            int lane = ch % 16, sum = 0;
            for (int k = 0; k < 3; k++)
            {
                int w0 = a.Weights[k * channels + ch], w1 = a.Weights[(3 + k) * channels + ch], w2 = a.Weights[(6 + k) * channels + ch];
                pairs[k * 32 + 2 * lane] = (short)w0;
                pairs[k * 32 + 2 * lane + 1] = (short)w1;
                singles[k * 32 + 2 * lane] = (short)w2;
                singles[k * 32 + 2 * lane + 1] = 0;
                sum += w0 + w1 + w2;
            }
            ((int*)(block + 6 * 64))[lane] = unchecked((a.Bias.IsEmpty ? 0 : a.Bias[ch]) - zp * sum);
            ((float*)(block + 7 * 64))[lane] = a.Scales[ch];
        }
    }

    /// <summary>A column left or right of the image: rows 0/1 as zero-point pairs, row 2 as the zero point.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Column ZeroPointColumn(int zeroPoint) => new(Vector512.Create((short)zeroPoint), Vector512.Create(zeroPoint).AsInt16());

    /// <summary>Column <paramref name="ix"/> of the window's three rows, or the zero-point column left or right of the image.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Column At<T>(in Depthwise3x3Rows<T> r, T* p0, T* p1, T* p2, int ix, in Column zeroPoint) where T : unmanaged =>
        (uint)ix < (uint)r.Width ? Load(p0 + (nint)ix * r.Channels, p1 + (nint)ix * r.Channels, p2 + (nint)ix * r.Channels) : zeroPoint;

    /// <summary>One input column of a window, 16 channels: rows 0 and 1 as int16 pairs, row 2 as dwords (x, 0).</summary>
    private readonly struct Column(Vector512<short> pair, Vector512<short> single)
    {
        public readonly Vector512<short> Pair = pair, Single = single;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Column Load<T>(T* p0, T* p1, T* p2) where T : unmanaged
    {
        Vector256<byte> both = Vector256.Create(Sse2.LoadVector128((byte*)p0), Sse2.LoadVector128((byte*)p1));
        if (typeof(T) == typeof(byte))
        {
            // u8: one VPERMT2B zero-extends while it interleaves (odd bytes from a zero table).
            Vector512<byte> widened = Avx512Vbmi.PermuteVar64x8x2(both.ToVector512Unsafe(), Vector512.Create(
                (byte)0, 64, 16, 64, 1, 64, 17, 64, 2, 64, 18, 64, 3, 64, 19, 64, 4, 64, 20, 64, 5, 64, 21, 64, 6, 64, 22, 64, 7, 64, 23, 64,
                8, 64, 24, 64, 9, 64, 25, 64, 10, 64, 26, 64, 11, 64, 27, 64, 12, 64, 28, 64, 13, 64, 29, 64, 14, 64, 30, 64, 15, 64, 31, 64),
                Vector512<byte>.Zero);
            return new Column(widened.AsInt16(), Avx512F.ConvertToVector512Int32(Sse2.LoadVector128((byte*)p2)).AsInt16());
        }
        // Bytes 0..15 of the low half interleaved with bytes 0..15 of the high half (a constant, not a static field:
        // the AggressiveOptimization caller would read a static readonly through its class-init check).
        Vector256<byte> mixed = Avx512Vbmi.VL.PermuteVar32x8(both, Vector256.Create(
            (byte)0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31));
        if (typeof(T) == typeof(byte))
            return new Column(Avx512BW.ConvertToVector512Int16(mixed), Avx512F.ConvertToVector512Int32(Sse2.LoadVector128((byte*)p2)).AsInt16());
        return new Column(Avx512BW.ConvertToVector512Int16(mixed.AsSByte()), Avx512F.ConvertToVector512Int32(Sse2.LoadVector128((sbyte*)p2)).AsInt16());
    }

    /// <summary>
    /// One 16-channel block over all the call's output rows, its weights held in registers: border pixels column by
    /// column, interior pixels sliding along the row (stride 1: one new column per pixel, stride 2: two).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<T>(in Depthwise3x3Rows<T> r, byte* w, T* output, int c, in Depthwise3x3Epilogue e) where T : unmanaged
    {
        // Weights and epilogue constants in locals, so the JIT keeps them in registers (a struct of them passed by
        // reference would be read from the stack: 10 ZMM loads per output, more than the load ports give).
        Vector512<short> w01a = Avx512F.LoadAlignedVector512((short*)w), w01b = Avx512F.LoadAlignedVector512((short*)(w + 64));
        Vector512<short> w01c = Avx512F.LoadAlignedVector512((short*)(w + 128)), w2a = Avx512F.LoadAlignedVector512((short*)(w + 192));
        Vector512<short> w2b = Avx512F.LoadAlignedVector512((short*)(w + 256)), w2c = Avx512F.LoadAlignedVector512((short*)(w + 320));
        Vector512<int> bias = Avx512F.LoadAlignedVector512((int*)(w + 384));
        Vector512<float> scale = Avx512F.LoadAlignedVector512((float*)(w + 448));
        Vector512<float> lo = e.Lo, hi = e.Hi;
        Vector512<int> zpOut = e.ZeroPoint;
        nint step = r.Channels;
        int inLo = r.InLo, inHi = r.InHi, outWidth = r.OutWidth, strideX = r.StrideX;
        Column zp = ZeroPointColumn(r.InputZeroPoint);
        bool leftPad = r.LeftPad, rightPad = r.RightPad;
        for (int oy = r.RowStart; oy < r.RowEnd; oy++)
        {
            int iy0 = oy * r.StrideY - r.PadTop;
            T* p0 = r.Row(iy0, c), p1 = r.Row(iy0 + 1, c), p2 = r.Row(iy0 + 2, c);
            T* dst = output + (nint)oy * outWidth * step;
            int ox = leftPad ? 0 : inLo;
            if (!leftPad)
                for (int x = 0; x < inLo; x++) BorderPixel(r, p0, p1, p2, x, zp, dst, w01a, w01b, w01c, w2a, w2b, w2c, bias, scale, lo, hi, zpOut);
            if (inHi > ox)
            {
                nint first = (nint)(ox * strideX - r.PadLeft) * step;
                T* q0 = p0 + first, q1 = p1 + first, q2 = p2 + first, d = dst + ox * step;
                Column a = leftPad ? zp : Load(q0, q1, q2);
                if (strideX == 1)
                {
                    Column b = Load(q0 + step, q1 + step, q2 + step);
                    for (; ox < inHi; ox++)
                    {
                        Column cc = Load(q0 + 2 * step, q1 + 2 * step, q2 + 2 * step);
                        Store(d, Sum(a, b, cc, w01a, w01b, w01c, w2a, w2b, w2c, bias), scale, lo, hi, zpOut);
                        a = b;
                        b = cc;
                        q0 += step; q1 += step; q2 += step;
                        d += step;
                    }
                    if (rightPad)
                    {
                        Store(d, Sum(a, b, zp, w01a, w01b, w01c, w2a, w2b, w2c, bias), scale, lo, hi, zpOut);
                        ox++;
                    }
                }
                else
                {
                    for (; ox < inHi; ox++)
                    {
                        Column b = Load(q0 + step, q1 + step, q2 + step);
                        Column cc = Load(q0 + 2 * step, q1 + 2 * step, q2 + 2 * step);
                        Store(d, Sum(a, b, cc, w01a, w01b, w01c, w2a, w2b, w2c, bias), scale, lo, hi, zpOut);
                        a = cc;
                        q0 += 2 * step; q1 += 2 * step; q2 += 2 * step;
                        d += step;
                    }
                    if (rightPad)
                    {
                        Column b = Load(q0 + step, q1 + step, q2 + step);
                        Store(d, Sum(a, b, zp, w01a, w01b, w01c, w2a, w2b, w2c, bias), scale, lo, hi, zpOut);
                        ox++;
                    }
                }
            }
            for (; ox < outWidth; ox++)
                BorderPixel(r, p0, p1, p2, ox, zp, dst, w01a, w01b, w01c, w2a, w2b, w2c, bias, scale, lo, hi, zpOut);
        }
    }

    /// <summary>An output pixel whose window leaves the row on the left or right: columns outside read the zero point.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BorderPixel<T>(in Depthwise3x3Rows<T> r, T* p0, T* p1, T* p2, int ox, in Column zp, T* dst,
        Vector512<short> w01a, Vector512<short> w01b, Vector512<short> w01c, Vector512<short> w2a, Vector512<short> w2b,
        Vector512<short> w2c, Vector512<int> bias, Vector512<float> scale, Vector512<float> lo, Vector512<float> hi,
        Vector512<int> zpOut) where T : unmanaged
    {
        int ix = ox * r.StrideX - r.PadLeft;
        Vector512<int> sum = Sum(At(r, p0, p1, p2, ix, zp), At(r, p0, p1, p2, ix + 1, zp), At(r, p0, p1, p2, ix + 2, zp), w01a, w01b, w01c, w2a, w2b, w2c, bias);
        Store(dst + ox * (nint)r.Channels, sum, scale, lo, hi, zpOut);
    }

    /// <summary>
    /// bias + the nine taps of the window whose columns are a, b, c: (w[0][k], w[1][k]) pairs against the columns'
    /// row 0/1 pairs, (w[2][k], 0) against their row 2, as two partial sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Sum(in Column a, in Column b, in Column c,
        Vector512<short> w01a, Vector512<short> w01b, Vector512<short> w01c, Vector512<short> w2a, Vector512<short> w2b,
        Vector512<short> w2c, Vector512<int> bias)
    {
        Vector512<int> s = Avx512BW.Add(Avx512BW.MultiplyAddAdjacent(a.Pair, w01a), Avx512BW.MultiplyAddAdjacent(b.Pair, w01b));
        Vector512<int> t = Avx512BW.Add(Avx512BW.MultiplyAddAdjacent(a.Single, w2a), Avx512BW.MultiplyAddAdjacent(b.Single, w2b));
        s = Avx512F.Add(s, Avx512BW.MultiplyAddAdjacent(c.Pair, w01c));
        t = Avx512F.Add(t, Avx512BW.MultiplyAddAdjacent(c.Single, w2c));
        return Avx512F.Add(Avx512F.Add(s, bias), t);
    }

    /// <summary>The int32 sums converted to float, scaled and stored (<see cref="RequantizationAvx512.Store16"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* dst, Vector512<int> acc, Vector512<float> scale, Vector512<float> lo, Vector512<float> hi, Vector512<int> zeroPoint) where T : unmanaged =>
        RequantizationAvx512.Store16(dst, Avx512F.Multiply(Avx512F.ConvertToVector512Single(acc), scale), lo, hi, zeroPoint);
}
