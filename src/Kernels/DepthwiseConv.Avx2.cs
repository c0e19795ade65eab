using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// Int8 depthwise convolution for AVX2, NHWC, 16 channels per step. Per tap: VPMOVZXBW/VPMOVSXBW the
/// input, subtract the zero point, VPMOVSXBW the weights, VPMULLW (exact: |x - zp| &lt;= 255 and |w| &lt;= 128
/// give a product within int16), then VPMOVSXWD into two int32 accumulators. The taps of each output pixel
/// are gathered once (padding left out), so the same code serves 3x3, 5x5, any stride and dilation.
/// Channels past the last multiple of 16 go through the scalar arithmetic, which is the same arithmetic.
/// Output pixels whose whole window is inside the image (all but the border) take the taps in pairs instead:
/// the two taps' widened inputs interleaved by VPUNPCKLWD/VPUNPCKHWD against weights interleaved the same way
/// once per call, one VPMADDWD per 8 channels and 2 taps (exact: each pair sum is within ±65280), about half
/// the instructions per multiply-add. Integer sums in another order are the same integers.
/// </summary>
internal static unsafe class DepthwiseConvAvx2
{
    public static void Run<T>(in DepthwiseArgs<T> a) where T : unmanaged
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, outWidth = g.OutputWidth, taps = g.KernelHeight * g.KernelWidth;
        Span<int> inOffsets = taps <= 128 ? stackalloc int[taps] : new int[taps];
        Span<int> wOffsets = taps <= 128 ? stackalloc int[taps] : new int[taps];
        var (loS, hiS) = Requantization.Bounds(a.Output);
        Vector256<float> lo = Vector256.Create(loS), hi = Vector256.Create(hiS);
        Vector256<int> zpOut = Vector256.Create(a.Output.ZeroPoint);
        Vector256<short> zpIn = Vector256.Create((short)a.InputZeroPoint);
        bool hasBias = !a.Bias.IsEmpty;
        int blocks = channels / 16, pairs = (taps + 1) / 2;
        // Per pair of taps and 16-channel block: the low and high interleaved weight vectors (32 shorts).
        int pairedShorts = pairs * blocks * 32;
        short[]? rented = null;
        Span<short> paired = pairedShorts <= 16 * 1024 ? stackalloc short[pairedShorts]
            : (rented = System.Buffers.ArrayPool<short>.Shared.Rent(pairedShorts));

        fixed (T* input = a.Input)
        fixed (sbyte* weights = a.Weights)
        fixed (int* bias = a.Bias)
        fixed (float* scales = a.Scales)
        fixed (T* output = a.Destination)
        fixed (int* inOff = inOffsets)
        fixed (int* wOff = wOffsets)
        fixed (short* wPaired = paired)
        {
            PairWeights(weights, taps, channels, wPaired);
            for (int oy = a.RowStart; oy < a.RowEnd; oy++)
            {
                for (int ox = 0; ox < outWidth; ox++)
                {
                    int n = a.GatherTaps(oy, ox, inOffsets, wOffsets);
                    T* dst = output + (oy * outWidth + ox) * channels;
                    int c = 0;
                    if (n == taps)
                    {
                        for (; c + 16 <= channels; c += 16)
                        {
                            short* w = wPaired + (c / 16) * 32;
                            Vector256<int> accLo = Vector256<int>.Zero, accHi = Vector256<int>.Zero;
                            for (int t = 0; t < n; t += 2, w += blocks * 32)
                            {
                                Vector256<short> x0 = Avx2.Subtract(RequantizationAvx2.Load16Widen(input + inOff[t] + c), zpIn);
                                Vector256<short> x1 = t + 1 < n ? Avx2.Subtract(RequantizationAvx2.Load16Widen(input + inOff[t + 1] + c), zpIn) : Vector256<short>.Zero;
                                accLo = Avx2.Add(accLo, Avx2.MultiplyAddAdjacent(Avx2.UnpackLow(x0, x1), Avx.LoadVector256(w)));
                                accHi = Avx2.Add(accHi, Avx2.MultiplyAddAdjacent(Avx2.UnpackHigh(x0, x1), Avx.LoadVector256(w + 16)));
                            }
                            // accLo holds channels 0-3 | 8-11, accHi 4-7 | 12-15 (per 128-bit lane).
                            Vector256<int> acc0 = Avx2.Permute2x128(accLo, accHi, 0x20);
                            Vector256<int> acc1 = Avx2.Permute2x128(accLo, accHi, 0x31);
                            if (hasBias)
                            {
                                acc0 = Avx2.Add(acc0, Avx.LoadVector256(bias + c));
                                acc1 = Avx2.Add(acc1, Avx.LoadVector256(bias + c + 8));
                            }
                            Vector256<int> q0 = RequantizationAvx2.Requantize(acc0, Avx.LoadVector256(scales + c), lo, hi, zpOut);
                            Vector256<int> q1 = RequantizationAvx2.Requantize(acc1, Avx.LoadVector256(scales + c + 8), lo, hi, zpOut);
                            RequantizationAvx2.Store16(dst + c, q0, q1);
                        }
                    }
                    for (; c + 16 <= channels; c += 16)
                    {
                        Vector256<int> acc0 = hasBias ? Avx.LoadVector256(bias + c) : Vector256<int>.Zero;
                        Vector256<int> acc1 = hasBias ? Avx.LoadVector256(bias + c + 8) : Vector256<int>.Zero;
                        for (int t = 0; t < n; t++)
                        {
                            Vector256<short> x = Avx2.Subtract(RequantizationAvx2.Load16Widen(input + inOff[t] + c), zpIn);
                            Vector256<short> w = Avx2.ConvertToVector256Int16(Sse2.LoadVector128(weights + wOff[t] + c));
                            Vector256<short> p = Avx2.MultiplyLow(x, w);
                            acc0 = Avx2.Add(acc0, Avx2.ConvertToVector256Int32(p.GetLower()));
                            acc1 = Avx2.Add(acc1, Avx2.ConvertToVector256Int32(p.GetUpper()));
                        }
                        Vector256<int> q0 = RequantizationAvx2.Requantize(acc0, Avx.LoadVector256(scales + c), lo, hi, zpOut);
                        Vector256<int> q1 = RequantizationAvx2.Requantize(acc1, Avx.LoadVector256(scales + c + 8), lo, hi, zpOut);
                        RequantizationAvx2.Store16(dst + c, q0, q1);
                    }
                    for (; c < channels; c++)
                    {
                        int acc = hasBias ? bias[c] : 0;
                        for (int t = 0; t < n; t++)
                            acc += (Int8.Load(input + inOff[t] + c) - a.InputZeroPoint) * weights[wOff[t] + c];
                        Int8.Store(dst + c, Requantization.Requantize(acc, scales[c], loS, hiS, a.Output.ZeroPoint));
                    }
                }
            }
        }
        if (rented is not null) System.Buffers.ArrayPool<short>.Shared.Return(rented);
    }

    /// <summary>
    /// Weights [tap][c] as s16 pairs of consecutive taps (the last paired with zeros when the count is odd),
    /// interleaved exactly as <c>VPUNPCKLWD</c>/<c>VPUNPCKHWD</c> interleave the two taps' inputs.
    /// </summary>
    private static void PairWeights(sbyte* weights, int taps, int channels, short* paired)
    {
        int blocks = channels / 16;
        for (int t = 0; t < taps; t += 2)
        {
            for (int b = 0; b < blocks; b++)
            {
                Vector256<short> w0 = Avx2.ConvertToVector256Int16(Sse2.LoadVector128(weights + t * channels + b * 16));
                Vector256<short> w1 = t + 1 < taps ? Avx2.ConvertToVector256Int16(Sse2.LoadVector128(weights + (t + 1) * channels + b * 16)) : Vector256<short>.Zero;
                short* dst = paired + ((t / 2) * blocks + b) * 32;
                Avx.Store(dst, Avx2.UnpackLow(w0, w1));
                Avx.Store(dst + 16, Avx2.UnpackHigh(w0, w1));
            }
        }
    }
}
