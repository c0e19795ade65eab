using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeAgent.Kernels;

/// <summary>
/// Int8 depthwise convolution for ARMv8.0 NEON, NHWC, 16 channels per step. Per tap: USUBL/SSUBL (input minus
/// zero point, exact in int16), SXTL the weights, four SMLAL/SMLAL2 into int32 accumulators — 16 MACs in nine
/// instructions. Taps of each output pixel are gathered once (padding left out), so the same code serves 3x3,
/// 5x5, any stride and dilation. An 8-channel step and then the scalar arithmetic take the remainder.
/// </summary>
internal static unsafe class DepthwiseConvNeon
{
    public static void Run<T>(in DepthwiseArgs<T> a) where T : unmanaged
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, outWidth = g.OutputWidth, taps = g.KernelHeight * g.KernelWidth;
        Span<int> inOffsets = taps <= 128 ? stackalloc int[taps] : new int[taps];
        Span<int> wOffsets = taps <= 128 ? stackalloc int[taps] : new int[taps];
        var (loS, hiS) = Requantization.Bounds(a.Output);
        Vector128<float> lo = Vector128.Create(loS), hi = Vector128.Create(hiS);
        Vector128<int> zpOut = Vector128.Create(a.Output.ZeroPoint);
        Vector128<byte> zpIn = RequantizationNeon.ZeroPointBytes(a.InputZeroPoint);
        bool hasBias = !a.Bias.IsEmpty;

        fixed (T* input = a.Input)
        fixed (sbyte* weights = a.Weights)
        fixed (int* bias = a.Bias)
        fixed (float* scales = a.Scales)
        fixed (T* output = a.Destination)
        fixed (int* inOff = inOffsets)
        fixed (int* wOff = wOffsets)
        {
            for (int oy = a.RowStart; oy < a.RowEnd; oy++)
            {
                for (int ox = 0; ox < outWidth; ox++)
                {
                    int n = a.GatherTaps(oy, ox, inOffsets, wOffsets);
                    T* dst = output + (oy * outWidth + ox) * channels;
                    int c = 0;
                    for (; c + 16 <= channels; c += 16)
                    {
                        Vector128<int> acc0, acc1, acc2, acc3;
                        if (hasBias)
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
                            RequantizationNeon.Load16MinusZeroPoint(input + inOff[t] + c, zpIn, out var xl, out var xh);
                            Vector128<sbyte> w = AdvSimd.LoadVector128(weights + wOff[t] + c);
                            Vector128<short> wl = AdvSimd.SignExtendWideningLower(w.GetLower());
                            Vector128<short> wh = AdvSimd.SignExtendWideningUpper(w);
                            acc0 = AdvSimd.MultiplyWideningLowerAndAdd(acc0, xl.GetLower(), wl.GetLower());
                            acc1 = AdvSimd.MultiplyWideningUpperAndAdd(acc1, xl, wl);
                            acc2 = AdvSimd.MultiplyWideningLowerAndAdd(acc2, xh.GetLower(), wh.GetLower());
                            acc3 = AdvSimd.MultiplyWideningUpperAndAdd(acc3, xh, wh);
                        }
                        RequantizationNeon.Store16(dst + c,
                            RequantizationNeon.Requantize(acc0, AdvSimd.LoadVector128(scales + c), lo, hi, zpOut),
                            RequantizationNeon.Requantize(acc1, AdvSimd.LoadVector128(scales + c + 4), lo, hi, zpOut),
                            RequantizationNeon.Requantize(acc2, AdvSimd.LoadVector128(scales + c + 8), lo, hi, zpOut),
                            RequantizationNeon.Requantize(acc3, AdvSimd.LoadVector128(scales + c + 12), lo, hi, zpOut));
                    }
                    for (; c + 8 <= channels; c += 8)
                    {
                        Vector128<int> acc0 = hasBias ? AdvSimd.LoadVector128(bias + c) : Vector128<int>.Zero;
                        Vector128<int> acc1 = hasBias ? AdvSimd.LoadVector128(bias + c + 4) : Vector128<int>.Zero;
                        for (int t = 0; t < n; t++)
                        {
                            Vector128<short> x = RequantizationNeon.Load8MinusZeroPoint(input + inOff[t] + c, zpIn);
                            Vector128<short> w = AdvSimd.SignExtendWideningLower(AdvSimd.LoadVector64(weights + wOff[t] + c));
                            acc0 = AdvSimd.MultiplyWideningLowerAndAdd(acc0, x.GetLower(), w.GetLower());
                            acc1 = AdvSimd.MultiplyWideningUpperAndAdd(acc1, x, w);
                        }
                        RequantizationNeon.Store8(dst + c,
                            RequantizationNeon.Requantize(acc0, AdvSimd.LoadVector128(scales + c), lo, hi, zpOut),
                            RequantizationNeon.Requantize(acc1, AdvSimd.LoadVector128(scales + c + 4), lo, hi, zpOut));
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
    }
}
