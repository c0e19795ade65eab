using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeAgent.Kernels;

/// <summary>
/// ARMv8.2 dot-product direct convolution: a kernel row's taps stay bytes (one 16-byte load, u8 flipped to s8 by
/// xor 0x80), and each group of four taps meets four taps x 4 output channels of s8 weights in one SDOT by
/// element (16 multiply-adds, the AVX-VNNI path's <see cref="QConvDirect.PackedQuads"/> layout), three times the
/// work per instruction of the SMLAL path. SDOT is s8 x s8, so the input is shifted to x - 128 for u8 and the
/// zero point with it; padding reads that shifted zero point, and <c>acc = bias − zp'·Σw + Σ x'·w</c> is
/// exactly <c>bias + Σ (x − zp)·w</c>.
/// </summary>
internal static unsafe class QConvDirectNeonDot
{
    [SkipLocalsInit]
    public static void Run<T>(in QConvDirectArgs<T> a) where T : unmanaged
    {
        var conv = a.Conv;
        var s = conv.Shape;
        int cin = s.InChannels, cout = s.OutChannels, kh = s.KernelHeight, kw = s.KernelWidth;
        int quads = conv.RowQuads, blocks = conv.ChannelBlocks, padded = blocks * 8;
        bool unsigned = typeof(T) == typeof(byte);
        int zpShifted = a.InputZeroPoint - (unsigned ? 128 : 0);
        float* scales = stackalloc float[padded];
        int* bias = stackalloc int[padded];
        a.FillChannelConstants(scales, bias, zpShifted);
        var (loS, hiS) = Requantization.Bounds(a.Output);
        Vector128<float> lo = Vector128.Create(loS), hi = Vector128.Create(hiS);
        Vector128<int> zpOut = Vector128.Create(a.Output.ZeroPoint);
        Vector128<byte> flip = Vector128.Create(unsigned ? (byte)0x80 : (byte)0);
        byte zpStored = (byte)a.InputZeroPoint;
        long inputLength = a.Input.Length;
        byte* rows = stackalloc byte[kh * 16];
        byte* tail = stackalloc byte[16];
        fixed (T* input = a.Input)
        fixed (T* destination = a.Destination)
        fixed (sbyte* weights = conv.PackedQuads)
        {
            // Per kernel row, the row's bytes as s8 (a border row is gathered first; padding is the zero point).
            Vector128<sbyte>* x = stackalloc Vector128<sbyte>[kh];
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
                        byte* src;
                        if ((uint)iy < (uint)s.Height && s.DilationWidth == 1 && ix0 >= 0 && ix0 + kw <= s.Width
                            && (image - (byte*)input) + offset + 16 <= inputLength)
                        {
                            // Bytes past the row's taps are neighbours; their packed weights are zero.
                            src = image + offset;
                        }
                        else
                        {
                            src = rows + ky * 16;
                            AdvSimd.Store(src, Vector128.Create(zpStored));
                            if ((uint)iy < (uint)s.Height)
                            {
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    int ix = ix0 + kx * s.DilationWidth;
                                    if ((uint)ix >= (uint)s.Width) continue;
                                    byte* px = image + ((long)iy * s.Width + ix) * cin;
                                    for (int c = 0; c < cin; c++) src[kx * cin + c] = px[c];
                                }
                            }
                        }
                        x[ky] = (AdvSimd.LoadVector128(src) ^ flip).AsSByte();
                    }
                    T* pixelOut = destination + ((long)row * s.OutWidth + ox) * cout;
                    for (int b0 = 0; b0 < blocks; b0 += 2)
                    {
                        bool two = b0 + 1 < blocks;
                        int o0 = b0 * 8;
                        Vector128<int> acc0 = AdvSimd.LoadVector128(bias + o0), acc1 = AdvSimd.LoadVector128(bias + o0 + 4);
                        Vector128<int> acc2 = two ? AdvSimd.LoadVector128(bias + o0 + 8) : default;
                        Vector128<int> acc3 = two ? AdvSimd.LoadVector128(bias + o0 + 12) : default;
                        // One pointer walks the packed quads (an index times the stride cost a multiply per quad), and
                        // the two-block case runs without a per-quad test (it is every block pair but an odd last one).
                        int step = blocks * 32;
                        sbyte* w = weights + (long)b0 * 32;
                        for (int ky = 0; ky < kh; ky++, w += quads * step)
                        {
                            Vector128<sbyte> xr = x[ky];
                            if (two)
                            {
                                sbyte* wq = w;
                                Quad16(ref acc0, ref acc1, ref acc2, ref acc3, xr, 0, wq);
                                if (quads > 1) Quad16(ref acc0, ref acc1, ref acc2, ref acc3, xr, 1, wq += step);
                                if (quads > 2) Quad16(ref acc0, ref acc1, ref acc2, ref acc3, xr, 2, wq += step);
                                if (quads > 3) Quad16(ref acc0, ref acc1, ref acc2, ref acc3, xr, 3, wq + step);
                            }
                            else
                            {
                                sbyte* wq = w;
                                Quad8(ref acc0, ref acc1, xr, 0, wq);
                                if (quads > 1) Quad8(ref acc0, ref acc1, xr, 1, wq += step);
                                if (quads > 2) Quad8(ref acc0, ref acc1, xr, 2, wq += step);
                                if (quads > 3) Quad8(ref acc0, ref acc1, xr, 3, wq + step);
                            }
                        }
                        var q0 = RequantizationNeon.Requantize(acc0, AdvSimd.LoadVector128(scales + o0), lo, hi, zpOut);
                        var q1 = RequantizationNeon.Requantize(acc1, AdvSimd.LoadVector128(scales + o0 + 4), lo, hi, zpOut);
                        int count = Math.Min(two ? 16 : 8, cout - o0);
                        if (two)
                        {
                            var q2 = RequantizationNeon.Requantize(acc2, AdvSimd.LoadVector128(scales + o0 + 8), lo, hi, zpOut);
                            var q3 = RequantizationNeon.Requantize(acc3, AdvSimd.LoadVector128(scales + o0 + 12), lo, hi, zpOut);
                            if (count == 16) { RequantizationNeon.Store16(pixelOut + o0, q0, q1, q2, q3); continue; }
                            RequantizationNeon.Store16((T*)tail, q0, q1, q2, q3);
                        }
                        else
                        {
                            RequantizationNeon.Store8((T*)tail, q0, q1);
                        }
                        for (int j = 0; j < count; j++) ((byte*)(pixelOut + o0))[j] = tail[j];
                    }
                }
            }
        }
    }

    /// <summary>Taps 4q..4q+3 of a kernel row (lane q of <paramref name="x"/>) into 16 output channels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quad16(ref Vector128<int> a0, ref Vector128<int> a1, ref Vector128<int> a2, ref Vector128<int> a3,
        Vector128<sbyte> x, [ConstantExpected(Max = 3)] byte lane, sbyte* w)
    {
        var (w0, w1, w2, w3) = AdvSimd.Arm64.Load4xVector128(w);
        a0 = Dp.DotProductBySelectedQuadruplet(a0, w0, x, lane);
        a1 = Dp.DotProductBySelectedQuadruplet(a1, w1, x, lane);
        a2 = Dp.DotProductBySelectedQuadruplet(a2, w2, x, lane);
        a3 = Dp.DotProductBySelectedQuadruplet(a3, w3, x, lane);
    }

    /// <summary><see cref="Quad16"/> for an odd last block of 8 output channels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quad8(ref Vector128<int> a0, ref Vector128<int> a1, Vector128<sbyte> x, [ConstantExpected(Max = 3)] byte lane, sbyte* w)
    {
        var (w0, w1) = AdvSimd.Arm64.LoadPairVector128(w);
        a0 = Dp.DotProductBySelectedQuadruplet(a0, w0, x, lane);
        a1 = Dp.DotProductBySelectedQuadruplet(a1, w1, x, lane);
    }
}
