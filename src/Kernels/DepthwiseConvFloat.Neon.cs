using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeAgent.Kernels;

/// <summary>Float depthwise convolution for NEON: 16 channels per step in four Q-register accumulators, one FMLA chain per lane over the taps in (ky, kx) order, as in <see cref="DepthwiseConvFloatScalar"/>.</summary>
internal static unsafe class DepthwiseConvFloatNeon
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
        Vector128<float> lo = Vector128.Create(loS), hi = Vector128.Create(hiS);
        int c = 0;
        for (; c + 16 <= channels; c += 16)
        {
            Vector128<float> acc0, acc1, acc2, acc3;
            if (bias != null)
            {
                acc0 = AdvSimd.LoadVector128(bias + c);
                acc1 = AdvSimd.LoadVector128(bias + c + 4);
                acc2 = AdvSimd.LoadVector128(bias + c + 8);
                acc3 = AdvSimd.LoadVector128(bias + c + 12);
            }
            else
            {
                acc0 = acc1 = acc2 = acc3 = Vector128<float>.Zero;
            }
            for (int t = 0; t < n; t++)
            {
                float* x = input + inOff[t] + c, w = weights + wOff[t] + c;
                acc0 = AdvSimd.FusedMultiplyAdd(acc0, AdvSimd.LoadVector128(x), AdvSimd.LoadVector128(w));
                acc1 = AdvSimd.FusedMultiplyAdd(acc1, AdvSimd.LoadVector128(x + 4), AdvSimd.LoadVector128(w + 4));
                acc2 = AdvSimd.FusedMultiplyAdd(acc2, AdvSimd.LoadVector128(x + 8), AdvSimd.LoadVector128(w + 8));
                acc3 = AdvSimd.FusedMultiplyAdd(acc3, AdvSimd.LoadVector128(x + 12), AdvSimd.LoadVector128(w + 12));
            }
            if (clamp)
            {
                acc0 = FloatMathNeon.Clamp(acc0, lo, hi);
                acc1 = FloatMathNeon.Clamp(acc1, lo, hi);
                acc2 = FloatMathNeon.Clamp(acc2, lo, hi);
                acc3 = FloatMathNeon.Clamp(acc3, lo, hi);
            }
            AdvSimd.Store(dst + c, acc0);
            AdvSimd.Store(dst + c + 4, acc1);
            AdvSimd.Store(dst + c + 8, acc2);
            AdvSimd.Store(dst + c + 12, acc3);
        }
        return c;
    }
}
