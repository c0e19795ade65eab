using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeAgent.Kernels;

/// <summary>
/// Int8 depthwise convolution for ARMv8.0 NEON, NHWC, 16 channels per step. The weights are multiplied as int16
/// (SMLAL/SMLAL2 of the input minus zero point, USUBL, exact in int16): widened once at load by
/// <see cref="KernelTable.PackDepthwise"/>, or once per call when the caller passes plain bytes. Inside the image
/// (every tap of a pixel's row of the window present), four neighbouring output pixels go together: a tap's 16
/// weights are loaded once (one LD1 of four 64-bit vectors and one LDP) and meet the four pixels' inputs in 16
/// SMLAL/SMLAL2, 64 MACs per weight load instead of 16. Pixels at the borders (padding left out) and channels past
/// the last 16 take the one-pixel form; the same code serves 3x3, 5x5, any stride and dilation.
/// </summary>
internal static unsafe class DepthwiseConvNeon
{
    /// <summary>Largest taps x channels whose per-call int16 weights are kept on the stack (64 KB); more are rented.</summary>
    private const int MaxStackWeights = 32768;

    [SkipLocalsInit]
    public static void Run<T>(in DepthwiseArgs<T> a) where T : unmanaged
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, outWidth = g.OutputWidth, taps = g.KernelHeight * g.KernelWidth;
        Span<int> inOffsets = taps <= 128 ? stackalloc int[taps] : new int[taps];
        Span<int> wOffsets = taps <= 128 ? stackalloc int[taps] : new int[taps];
        var (loS, hiS) = Requantization.Bounds(a.Output);
        var k = new Constants(Vector128.Create(loS), Vector128.Create(hiS), Vector128.Create(a.Output.ZeroPoint),
                              RequantizationNeon.ZeroPointBytes(a.InputZeroPoint), loS, hiS, a.Output.ZeroPoint, a.InputZeroPoint);
        bool grouped = channels >= 16;
        int pixelStep = g.StrideWidth * channels, count = taps * channels;
        bool widened = !a.WidenedWeights.IsEmpty;
        short[]? rented = null;
        Span<short> perCall = widened ? default
            : count <= MaxStackWeights ? stackalloc short[count] : (rented = System.Buffers.ArrayPool<short>.Shared.Rent(count));
        ReadOnlySpan<short> wideSpan = widened ? a.WidenedWeights : perCall;

        fixed (T* input = a.Input)
        fixed (sbyte* weights = a.Weights)
        fixed (short* wide = wideSpan)
        fixed (int* bias = a.Bias)
        fixed (float* scales = a.Scales)
        fixed (T* output = a.Destination)
        fixed (int* inOff = inOffsets)
        fixed (int* wOff = wOffsets)
        {
            if (!widened) Widen(weights, wide, count);
            int* biasOrNull = a.Bias.IsEmpty ? null : bias;
            for (int oy = a.RowStart; oy < a.RowEnd; oy++)
            {
                int ox = 0;
                while (ox < outWidth)
                {
                    int n = a.GatherTaps(oy, ox, inOffsets, wOffsets);
                    T* dst = output + (oy * outWidth + ox) * channels;
                    if (grouped && ox + 4 <= outWidth && g.ColumnsInside(ox, 4))
                    {
                        // The four pixels share the first one's taps, each shifted by one stride of input.
                        int c = 0;
                        for (; c + 16 <= channels; c += 16)
                            Four(input + c, pixelStep, wide + c, inOff, wOff, n, biasOrNull == null ? null : biasOrNull + c,
                                 scales + c, dst + c, channels, k);
                        if (c < channels)
                            for (int p = 0; p < 4; p++)
                                One(input + p * pixelStep, wide, biasOrNull, scales, dst + p * channels, inOff, wOff, n, c, channels, k);
                        ox += 4;
                        continue;
                    }
                    One(input, wide, biasOrNull, scales, dst, inOff, wOff, n, 0, channels, k);
                    ox++;
                }
            }
        }
        if (rented is not null) System.Buffers.ArrayPool<short>.Shared.Return(rented);
    }

    private readonly struct Constants(Vector128<float> lo, Vector128<float> hi, Vector128<int> zpOut, Vector128<byte> zpIn,
                                      float loS, float hiS, int zpOutS, int zpInS)
    {
        public readonly Vector128<float> Lo = lo, Hi = hi;
        public readonly Vector128<int> ZpOut = zpOut;
        public readonly Vector128<byte> ZpIn = zpIn;
        public readonly float LoS = loS, HiS = hiS;
        public readonly int ZpOutS = zpOutS, ZpInS = zpInS;
    }

    private static void Widen(sbyte* weights, short* wide, int count)
    {
        int i = 0;
        for (; i + 16 <= count; i += 16)
        {
            Vector128<sbyte> w = AdvSimd.LoadVector128(weights + i);
            AdvSimd.Store(wide + i, AdvSimd.SignExtendWideningLower(AdvSimd.LoadVector64(weights + i)));
            AdvSimd.Store(wide + i + 8, AdvSimd.SignExtendWideningUpper(w));
        }
        for (; i < count; i++) wide[i] = weights[i];
    }

    /// <summary>16 channels of four output pixels <paramref name="step"/> input elements apart.</summary>
    // Not inlined: on its own the loop keeps its pointers and the zero point in registers (inlined into Run, the
    // compiler spilled them and reloaded them per tap).
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Four<T>(T* input, int step, short* wide, int* inOff, int* wOff, int n, int* bias, float* scales,
                                T* dst, int channels, in Constants k) where T : unmanaged
    {
        Vector128<byte> zpIn = k.ZpIn;
        Vector64<byte> zp8 = zpIn.GetLower();
        nint step1 = step, step2 = 2 * step, step3 = 3 * step;
        Vector128<int> b0 = Vector128<int>.Zero, b1 = b0, b2 = b0, b3 = b0;
        if (bias != null)
        {
            b0 = AdvSimd.LoadVector128(bias); b1 = AdvSimd.LoadVector128(bias + 4);
            b2 = AdvSimd.LoadVector128(bias + 8); b3 = AdvSimd.LoadVector128(bias + 12);
        }
        Vector128<int> p00 = b0, p01 = b1, p02 = b2, p03 = b3, p10 = b0, p11 = b1, p12 = b2, p13 = b3;
        Vector128<int> p20 = b0, p21 = b1, p22 = b2, p23 = b3, p30 = b0, p31 = b1, p32 = b2, p33 = b3;
        for (int t = 0; t < n; t++)
        {
            // The 16 int16 weights twice: as four 64-bit vectors (one LD1) for the low-half multiplies, which then
            // need no copy of a 128-bit register (GetLower() costs a MOV in the generated code), and as two 128-bit
            // vectors (one LDP) for the high-half SMLAL2.
            short* wt = wide + wOff[t];
            var (w0, _, w2, _) = AdvSimd.Load4xVector64(wt);
            var (wa, wb) = AdvSimd.Arm64.LoadPairVector128(wt);
            T* x = input + inOff[t];
            Tap(ref p00, ref p01, ref p02, ref p03, x, w0, wa, w2, wb, zpIn, zp8);
            Tap(ref p10, ref p11, ref p12, ref p13, x + step1, w0, wa, w2, wb, zpIn, zp8);
            Tap(ref p20, ref p21, ref p22, ref p23, x + step2, w0, wa, w2, wb, zpIn, zp8);
            Tap(ref p30, ref p31, ref p32, ref p33, x + step3, w0, wa, w2, wb, zpIn, zp8);
        }
        Vector128<float> s0 = AdvSimd.LoadVector128(scales), s1 = AdvSimd.LoadVector128(scales + 4);
        Vector128<float> s2 = AdvSimd.LoadVector128(scales + 8), s3 = AdvSimd.LoadVector128(scales + 12);
        Store(dst, p00, p01, p02, p03, s0, s1, s2, s3, k);
        Store(dst + channels, p10, p11, p12, p13, s0, s1, s2, s3, k);
        Store(dst + 2 * channels, p20, p21, p22, p23, s0, s1, s2, s3, k);
        Store(dst + 3 * channels, p30, p31, p32, p33, s0, s1, s2, s3, k);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tap<T>(ref Vector128<int> a0, ref Vector128<int> a1, ref Vector128<int> a2, ref Vector128<int> a3, T* x,
                               Vector64<short> w0, Vector128<short> wa, Vector64<short> w2, Vector128<short> wb, Vector128<byte> zpIn,
                               Vector64<byte> zp8)
        where T : unmanaged
    {
        // The low 8 bytes come from a load of their own: widening them out of the 16-byte load would copy it first.
        Vector128<short> xl, xh;
        if (typeof(T) == typeof(byte))
        {
            xl = AdvSimd.SubtractWideningLower(AdvSimd.LoadVector64((byte*)x), zp8).AsInt16();
            xh = AdvSimd.SubtractWideningUpper(AdvSimd.LoadVector128((byte*)x), zpIn).AsInt16();
        }
        else
        {
            xl = AdvSimd.SubtractWideningLower(AdvSimd.LoadVector64((sbyte*)x), zp8.AsSByte());
            xh = AdvSimd.SubtractWideningUpper(AdvSimd.LoadVector128((sbyte*)x), zpIn.AsSByte());
        }
        a0 = AdvSimd.MultiplyWideningLowerAndAdd(a0, xl.GetLower(), w0);
        a1 = AdvSimd.MultiplyWideningUpperAndAdd(a1, xl, wa);
        a2 = AdvSimd.MultiplyWideningLowerAndAdd(a2, xh.GetLower(), w2);
        a3 = AdvSimd.MultiplyWideningUpperAndAdd(a3, xh, wb);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(T* dst, Vector128<int> a0, Vector128<int> a1, Vector128<int> a2, Vector128<int> a3,
                                 Vector128<float> s0, Vector128<float> s1, Vector128<float> s2, Vector128<float> s3, in Constants k)
        where T : unmanaged =>
        RequantizationNeon.Store16(dst,
            RequantizationNeon.Requantize(a0, s0, k.Lo, k.Hi, k.ZpOut),
            RequantizationNeon.Requantize(a1, s1, k.Lo, k.Hi, k.ZpOut),
            RequantizationNeon.Requantize(a2, s2, k.Lo, k.Hi, k.ZpOut),
            RequantizationNeon.Requantize(a3, s3, k.Lo, k.Hi, k.ZpOut));

    /// <summary>Channels from <paramref name="c"/> on of one output pixel whose <paramref name="n"/> taps are gathered.</summary>
    private static void One<T>(T* input, short* wide, int* bias, float* scales, T* dst, int* inOff, int* wOff, int n, int c,
                               int channels, in Constants k) where T : unmanaged
    {
        Vector128<byte> zpIn = k.ZpIn;
        Vector64<byte> zp8 = zpIn.GetLower();
        for (; c + 16 <= channels; c += 16)
        {
            Vector128<int> acc0, acc1, acc2, acc3;
            if (bias != null)
            {
                acc0 = AdvSimd.LoadVector128(bias + c);
                acc1 = AdvSimd.LoadVector128(bias + c + 4);
                acc2 = AdvSimd.LoadVector128(bias + c + 8);
                acc3 = AdvSimd.LoadVector128(bias + c + 12);
            }
            else
            {
                acc0 = acc1 = acc2 = acc3 = Vector128<int>.Zero;
            }
            for (int t = 0; t < n; t++)
            {
                // The same tap as one of Four's pixels: weights as an LD1 of four 64-bit vectors and an LDP, no widening.
                short* wt = wide + wOff[t] + c;
                var (w0, _, w2, _) = AdvSimd.Load4xVector64(wt);
                var (wa, wb) = AdvSimd.Arm64.LoadPairVector128(wt);
                Tap(ref acc0, ref acc1, ref acc2, ref acc3, input + inOff[t] + c, w0, wa, w2, wb, zpIn, zp8);
            }
            Store(dst + c, acc0, acc1, acc2, acc3, AdvSimd.LoadVector128(scales + c), AdvSimd.LoadVector128(scales + c + 4),
                  AdvSimd.LoadVector128(scales + c + 8), AdvSimd.LoadVector128(scales + c + 12), k);
        }
        for (; c + 8 <= channels; c += 8)
        {
            Vector128<int> acc0 = bias != null ? AdvSimd.LoadVector128(bias + c) : Vector128<int>.Zero;
            Vector128<int> acc1 = bias != null ? AdvSimd.LoadVector128(bias + c + 4) : Vector128<int>.Zero;
            for (int t = 0; t < n; t++)
            {
                Vector128<short> x = RequantizationNeon.Load8MinusZeroPoint(input + inOff[t] + c, zpIn);
                // The low half from a 64-bit load of its own (GetLower() of the 128-bit one would cost a register copy).
                short* wt = wide + wOff[t] + c;
                acc0 = AdvSimd.MultiplyWideningLowerAndAdd(acc0, x.GetLower(), AdvSimd.LoadVector64(wt));
                acc1 = AdvSimd.MultiplyWideningUpperAndAdd(acc1, x, AdvSimd.LoadVector128(wt));
            }
            RequantizationNeon.Store8(dst + c,
                RequantizationNeon.Requantize(acc0, AdvSimd.LoadVector128(scales + c), k.Lo, k.Hi, k.ZpOut),
                RequantizationNeon.Requantize(acc1, AdvSimd.LoadVector128(scales + c + 4), k.Lo, k.Hi, k.ZpOut));
        }
        for (; c < channels; c++)
        {
            int acc = bias != null ? bias[c] : 0;
            for (int t = 0; t < n; t++)
                acc += (Int8.Load(input + inOff[t] + c) - k.ZpInS) * wide[wOff[t] + c];
            Int8.Store(dst + c, Requantization.Requantize(acc, scales[c], k.LoS, k.HiS, k.ZpOutS));
        }
    }
}
