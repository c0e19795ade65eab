using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>Float depthwise convolution for AVX2/FMA: 16 channels per step in two YMM accumulators, one VFMADD231PS chain per lane over the taps in (ky, kx) order, as in <see cref="DepthwiseConvFloatScalar"/>.</summary>
internal static unsafe class DepthwiseConvFloatAvx2
{
    public static void Run(in DepthwiseFloatArgs a)
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, outWidth = g.OutputWidth, taps = g.KernelHeight * g.KernelWidth;
        Span<int> inOffsets = taps <= 128 ? stackalloc int[taps] : new int[taps];
        Span<int> wOffsets = taps <= 128 ? stackalloc int[taps] : new int[taps];
        bool hasBias = !a.Bias.IsEmpty, clamp = !a.Activation.IsNone;
        float lo = a.Activation.Min, hi = a.Activation.Max;
        fixed (float* input = a.Input)
        fixed (float* weights = a.Weights)
        fixed (float* bias = a.Bias)
        fixed (float* output = a.Destination)
        fixed (int* inOff = inOffsets)
        fixed (int* wOff = wOffsets)
        {
            for (int oy = a.RowStart; oy < a.RowEnd; oy++)
            for (int ox = 0; ox < outWidth; ox++)
            {
                int n = g.GatherTaps(oy, ox, channels, inOffsets, wOffsets);
                float* dst = output + (oy * outWidth + ox) * channels;
                int c = Blocks16(input, weights, hasBias ? bias : null, dst, inOff, wOff, n, channels, clamp, lo, hi);
                for (; c < channels; c++)
                {
                    float acc = hasBias ? bias[c] : 0f;
                    for (int t = 0; t < n; t++) acc = MathF.FusedMultiplyAdd(input[inOff[t] + c], weights[wOff[t] + c], acc);
                    dst[c] = clamp ? FloatMath.Clamp(acc, lo, hi) : acc;
                }
            }
        }
    }

    private static int Blocks16(float* input, float* weights, float* bias, float* dst, int* inOff, int* wOff, int n, int channels, bool clamp, float loS, float hiS)
    {
        Vector256<float> lo = Vector256.Create(loS), hi = Vector256.Create(hiS);
        int c = 0;
        for (; c + 16 <= channels; c += 16)
        {
            Vector256<float> acc0 = bias != null ? Avx.LoadVector256(bias + c) : Vector256<float>.Zero;
            Vector256<float> acc1 = bias != null ? Avx.LoadVector256(bias + c + 8) : Vector256<float>.Zero;
            for (int t = 0; t < n; t++)
            {
                float* x = input + inOff[t] + c, w = weights + wOff[t] + c;
                acc0 = Fma.MultiplyAdd(Avx.LoadVector256(x), Avx.LoadVector256(w), acc0);
                acc1 = Fma.MultiplyAdd(Avx.LoadVector256(x + 8), Avx.LoadVector256(w + 8), acc1);
            }
            if (clamp)
            {
                acc0 = FloatMathAvx2.Clamp(acc0, lo, hi);
                acc1 = FloatMathAvx2.Clamp(acc1, lo, hi);
            }
            Avx.Store(dst + c, acc0);
            Avx.Store(dst + c + 8, acc1);
        }
        return c;
    }
}
