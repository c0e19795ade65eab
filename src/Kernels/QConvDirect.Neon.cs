using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeAgent.Kernels;

/// <summary>
/// ARMv8.0 AdvSimd direct convolution: per output pixel, each kernel row's taps are one 16-byte load widened to
/// int16 minus the input zero point (USUBL/SSUBL; a byte gather only at the borders), then every tap multiplies
/// int16 weights of 16 output channels by that tap's lane (SMLAL/SMLAL2 by element: 4 instructions, 16 exact
/// multiply-adds, |x - zp| · |w| ≤ 255 · 128). Taps past a row's last are never multiplied, so nothing is wasted
/// on the 9 taps of a 3x3 RGB row; an 8-channel step takes the rest of the output channels.
/// </summary>
internal static unsafe class QConvDirectNeon
{
    [SkipLocalsInit]
    public static void Run<T>(in QConvDirectArgs<T> a) where T : unmanaged
    {
        var conv = a.Conv;
        var s = conv.Shape;
        int cin = s.InChannels, cout = s.OutChannels, kh = s.KernelHeight, kw = s.KernelWidth, rowTaps = kw * cin;
        int padded = conv.ChannelBlocks * 8;
        float* scales = stackalloc float[padded];
        int* bias = stackalloc int[padded];
        a.FillChannelConstants(scales, bias, 0);
        var (loS, hiS) = Requantization.Bounds(a.Output);
        Vector128<float> lo = Vector128.Create(loS), hi = Vector128.Create(hiS);
        Vector128<int> zpOut = Vector128.Create(a.Output.ZeroPoint);
        Vector128<byte> zpIn = RequantizationNeon.ZeroPointBytes(a.InputZeroPoint);
        long inputLength = a.Input.Length;
        // Per kernel row, the 16 bytes its taps are read from (a border row is gathered here first).
        byte* rows = stackalloc byte[kh * 16];
        byte* tail = stackalloc byte[16];
        fixed (T* input = a.Input)
        fixed (T* destination = a.Destination)
        fixed (short* weights = conv.PackedTaps)
        {
            byte** rowPtr = stackalloc byte*[kh];
            for (int row = a.RowStart; row < a.RowEnd; row++)
            {
                int n = row / s.OutHeight, oy = row % s.OutHeight;
                byte* image = (byte*)(input + (long)n * s.Height * s.Width * cin);
                for (int ox = 0; ox < s.OutWidth; ox++)
                {
                    int ix0 = ox * s.StrideWidth - s.PadLeft;
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = oy * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                        long offset = ((long)iy * s.Width + ix0) * cin;
                        if ((uint)iy < (uint)s.Height && s.DilationWidth == 1 && ix0 >= 0 && ix0 + kw <= s.Width
                            && (image - (byte*)input) + offset + 16 <= inputLength)
                        {
                            // Lanes past the row's taps hold neighbours; they are never multiplied.
                            rowPtr[ky] = image + offset;
                            continue;
                        }
                        byte* dst = rows + ky * 16;
                        AdvSimd.Store(dst, zpIn);
                        if ((uint)iy < (uint)s.Height)
                        {
                            for (int kx = 0; kx < kw; kx++)
                            {
                                int ix = ix0 + kx * s.DilationWidth;
                                if ((uint)ix >= (uint)s.Width) continue;
                                byte* px = image + ((long)iy * s.Width + ix) * cin;
                                for (int c = 0; c < cin; c++) dst[kx * cin + c] = px[c];
                            }
                        }
                        rowPtr[ky] = dst;
                    }
                    T* pixelOut = destination + ((long)row * s.OutWidth + ox) * cout;
                    int o0 = 0;
                    for (; o0 + 16 <= padded; o0 += 16)
                    {
                        Vector128<int> acc0 = AdvSimd.LoadVector128(bias + o0), acc1 = AdvSimd.LoadVector128(bias + o0 + 4);
                        Vector128<int> acc2 = AdvSimd.LoadVector128(bias + o0 + 8), acc3 = AdvSimd.LoadVector128(bias + o0 + 12);
                        for (int ky = 0; ky < kh; ky++)
                        {
                            RequantizationNeon.Load16MinusZeroPoint((T*)rowPtr[ky], zpIn, out var xl, out var xh);
                            Row16(ref acc0, ref acc1, ref acc2, ref acc3, xl, xh, weights + (long)ky * rowTaps * padded + o0, padded, rowTaps);
                        }
                        Store16(acc0, acc1, acc2, acc3, scales + o0, lo, hi, zpOut, pixelOut, o0, cout, tail);
                    }
                    if (o0 < padded)
                    {
                        Vector128<int> acc0 = AdvSimd.LoadVector128(bias + o0), acc1 = AdvSimd.LoadVector128(bias + o0 + 4);
                        for (int ky = 0; ky < kh; ky++)
                        {
                            RequantizationNeon.Load16MinusZeroPoint((T*)rowPtr[ky], zpIn, out var xl, out var xh);
                            Row8(ref acc0, ref acc1, xl, xh, weights + (long)ky * rowTaps * padded + o0, padded, rowTaps);
                        }
                        var q0 = RequantizationNeon.Requantize(acc0, AdvSimd.LoadVector128(scales + o0), lo, hi, zpOut);
                        var q1 = RequantizationNeon.Requantize(acc1, AdvSimd.LoadVector128(scales + o0 + 4), lo, hi, zpOut);
                        RequantizationNeon.Store8((T*)tail, q0, q1);
                        for (int j = 0; j < cout - o0; j++) ((byte*)(pixelOut + o0))[j] = tail[j];
                    }
                }
            }
        }
    }

    /// <summary>One kernel row's taps (lanes of <paramref name="xl"/> then <paramref name="xh"/>) into 16 channels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row16(ref Vector128<int> a0, ref Vector128<int> a1, ref Vector128<int> a2, ref Vector128<int> a3,
        Vector128<short> xl, Vector128<short> xh, short* w, int stride, int taps)
    {
        // The lane index must be a constant, hence the unrolled ladder; the branches are the same for every pixel.
        // The weight pointer advances by one add per tap (an index times the stride cost a multiply per tap), and a
        // 3x3 kernel over RGB (9 taps, the usual stem) runs without the ladder's compare-and-branch per tap.
        if (taps == 9)
        {
            Tap16(ref a0, ref a1, ref a2, ref a3, xl, 0, w); w += stride;
            Tap16(ref a0, ref a1, ref a2, ref a3, xl, 1, w); w += stride;
            Tap16(ref a0, ref a1, ref a2, ref a3, xl, 2, w); w += stride;
            Tap16(ref a0, ref a1, ref a2, ref a3, xl, 3, w); w += stride;
            Tap16(ref a0, ref a1, ref a2, ref a3, xl, 4, w); w += stride;
            Tap16(ref a0, ref a1, ref a2, ref a3, xl, 5, w); w += stride;
            Tap16(ref a0, ref a1, ref a2, ref a3, xl, 6, w); w += stride;
            Tap16(ref a0, ref a1, ref a2, ref a3, xl, 7, w); w += stride;
            Tap16(ref a0, ref a1, ref a2, ref a3, xh, 0, w);
            return;
        }
        Tap16(ref a0, ref a1, ref a2, ref a3, xl, 0, w);
        if (taps <= 1) return;
        Tap16(ref a0, ref a1, ref a2, ref a3, xl, 1, w += stride);
        if (taps <= 2) return;
        Tap16(ref a0, ref a1, ref a2, ref a3, xl, 2, w += stride);
        if (taps <= 3) return;
        Tap16(ref a0, ref a1, ref a2, ref a3, xl, 3, w += stride);
        if (taps <= 4) return;
        Tap16(ref a0, ref a1, ref a2, ref a3, xl, 4, w += stride);
        if (taps <= 5) return;
        Tap16(ref a0, ref a1, ref a2, ref a3, xl, 5, w += stride);
        if (taps <= 6) return;
        Tap16(ref a0, ref a1, ref a2, ref a3, xl, 6, w += stride);
        if (taps <= 7) return;
        Tap16(ref a0, ref a1, ref a2, ref a3, xl, 7, w += stride);
        if (taps <= 8) return;
        Tap16(ref a0, ref a1, ref a2, ref a3, xh, 0, w += stride);
        if (taps <= 9) return;
        Tap16(ref a0, ref a1, ref a2, ref a3, xh, 1, w += stride);
        if (taps <= 10) return;
        Tap16(ref a0, ref a1, ref a2, ref a3, xh, 2, w += stride);
        if (taps <= 11) return;
        Tap16(ref a0, ref a1, ref a2, ref a3, xh, 3, w += stride);
        if (taps <= 12) return;
        Tap16(ref a0, ref a1, ref a2, ref a3, xh, 4, w += stride);
        if (taps <= 13) return;
        Tap16(ref a0, ref a1, ref a2, ref a3, xh, 5, w += stride);
        if (taps <= 14) return;
        Tap16(ref a0, ref a1, ref a2, ref a3, xh, 6, w += stride);
        if (taps <= 15) return;
        Tap16(ref a0, ref a1, ref a2, ref a3, xh, 7, w + stride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tap16(ref Vector128<int> a0, ref Vector128<int> a1, ref Vector128<int> a2, ref Vector128<int> a3,
        Vector128<short> x, [ConstantExpected(Max = 7)] byte lane, short* w)
    {
        // The 16 weights are four 64-bit vectors from one LD1 and every multiply takes the low-half form: taking
        // GetLower() of a 128-bit load makes the compiler copy the register first (a MOV, measured in the generated
        // code), and two LDPs cost an address add besides.
        var (w0, w1, w2, w3) = AdvSimd.Load4xVector64(w);
        a0 = AdvSimd.MultiplyBySelectedScalarWideningLowerAndAdd(a0, w0, x, lane);
        a1 = AdvSimd.MultiplyBySelectedScalarWideningLowerAndAdd(a1, w1, x, lane);
        a2 = AdvSimd.MultiplyBySelectedScalarWideningLowerAndAdd(a2, w2, x, lane);
        a3 = AdvSimd.MultiplyBySelectedScalarWideningLowerAndAdd(a3, w3, x, lane);
    }

    /// <summary><see cref="Row16"/> for the last 8 output channels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row8(ref Vector128<int> a0, ref Vector128<int> a1, Vector128<short> xl, Vector128<short> xh, short* w, int stride, int taps)
    {
        for (int t = 0; t < taps; t++, w += stride)
        {
            // Rarely used (output channels not a multiple of 16): the lane comes from memory instead of a constant.
            Vector128<short> x = Vector128.Create(t < 8 ? xl.GetElement(t) : xh.GetElement(t - 8));
            Vector128<short> wv = AdvSimd.LoadVector128(w);
            a0 = AdvSimd.MultiplyWideningLowerAndAdd(a0, wv.GetLower(), x.GetLower());
            a1 = AdvSimd.MultiplyWideningUpperAndAdd(a1, wv, x);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store16<T>(Vector128<int> a0, Vector128<int> a1, Vector128<int> a2, Vector128<int> a3, float* scales,
        Vector128<float> lo, Vector128<float> hi, Vector128<int> zp, T* pixelOut, int o0, int cout, byte* tail) where T : unmanaged
    {
        var q0 = RequantizationNeon.Requantize(a0, AdvSimd.LoadVector128(scales), lo, hi, zp);
        var q1 = RequantizationNeon.Requantize(a1, AdvSimd.LoadVector128(scales + 4), lo, hi, zp);
        var q2 = RequantizationNeon.Requantize(a2, AdvSimd.LoadVector128(scales + 8), lo, hi, zp);
        var q3 = RequantizationNeon.Requantize(a3, AdvSimd.LoadVector128(scales + 12), lo, hi, zp);
        if (o0 + 16 <= cout)
        {
            RequantizationNeon.Store16(pixelOut + o0, q0, q1, q2, q3);
            return;
        }
        RequantizationNeon.Store16((T*)tail, q0, q1, q2, q3);
        for (int j = 0; j < cout - o0; j++) ((byte*)(pixelOut + o0))[j] = tail[j];
    }
}
