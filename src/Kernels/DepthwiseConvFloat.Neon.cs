using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeAgent.Kernels;

/// <summary>
/// Float depthwise convolution for NEON: 16 channels per step in four Q-register accumulators, one FMLA chain per lane
/// over the taps in (ky, kx) order, as in <see cref="DepthwiseConvFloatScalar"/>. Inside the image, four neighbouring
/// output pixels go together: their taps are gathered once and each weight load feeds four FMLAs.
/// </summary>
internal readonly unsafe struct DepthwiseConvFloatNeon : IDepthwiseFloatBlocks
{
    /// <summary>16-channel blocks of four output pixels <paramref name="step"/> floats apart; returns the channels done.</summary>
    public static int Four16(float* input, int step, float* weights, float* bias, float* dst, int* inOff, int* wOff, int n, int channels,
                              bool clamp, float loS, float hiS)
    {
        Vector128<float> lo = Vector128.Create(loS), hi = Vector128.Create(hiS);
        nint s1 = step, s2 = 2 * step, s3 = 3 * step;
        int c = 0;
        for (; c + 16 <= channels; c += 16)
        {
            Vector128<float> b0 = Vector128<float>.Zero, b1 = b0, b2 = b0, b3 = b0;
            if (bias != null)
            {
                b0 = AdvSimd.LoadVector128(bias + c); b1 = AdvSimd.LoadVector128(bias + c + 4);
                b2 = AdvSimd.LoadVector128(bias + c + 8); b3 = AdvSimd.LoadVector128(bias + c + 12);
            }
            Vector128<float> p00 = b0, p01 = b1, p02 = b2, p03 = b3, p10 = b0, p11 = b1, p12 = b2, p13 = b3;
            Vector128<float> p20 = b0, p21 = b1, p22 = b2, p23 = b3, p30 = b0, p31 = b1, p32 = b2, p33 = b3;
            for (int t = 0; t < n; t++)
            {
                float* x = input + inOff[t] + c;
                var (w0, w1, w2, w3) = AdvSimd.Arm64.Load4xVector128(weights + wOff[t] + c);
                Tap(ref p00, ref p01, ref p02, ref p03, x, w0, w1, w2, w3);
                Tap(ref p10, ref p11, ref p12, ref p13, x + s1, w0, w1, w2, w3);
                Tap(ref p20, ref p21, ref p22, ref p23, x + s2, w0, w1, w2, w3);
                Tap(ref p30, ref p31, ref p32, ref p33, x + s3, w0, w1, w2, w3);
            }
            Store(dst + c, p00, p01, p02, p03, clamp, lo, hi);
            Store(dst + channels + c, p10, p11, p12, p13, clamp, lo, hi);
            Store(dst + 2 * channels + c, p20, p21, p22, p23, clamp, lo, hi);
            Store(dst + 3 * channels + c, p30, p31, p32, p33, clamp, lo, hi);
        }
        return c;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Tap(ref Vector128<float> a0, ref Vector128<float> a1, ref Vector128<float> a2, ref Vector128<float> a3, float* x,
                            Vector128<float> w0, Vector128<float> w1, Vector128<float> w2, Vector128<float> w3)
    {
        var (x0, x1, x2, x3) = AdvSimd.Arm64.Load4xVector128(x);
        a0 = AdvSimd.FusedMultiplyAdd(a0, x0, w0);
        a1 = AdvSimd.FusedMultiplyAdd(a1, x1, w1);
        a2 = AdvSimd.FusedMultiplyAdd(a2, x2, w2);
        a3 = AdvSimd.FusedMultiplyAdd(a3, x3, w3);
    }

    private static void Store(float* dst, Vector128<float> a0, Vector128<float> a1, Vector128<float> a2, Vector128<float> a3, bool clamp,
                              Vector128<float> lo, Vector128<float> hi)
    {
        if (clamp)
        {
            a0 = FloatMathNeon.Clamp(a0, lo, hi);
            a1 = FloatMathNeon.Clamp(a1, lo, hi);
            a2 = FloatMathNeon.Clamp(a2, lo, hi);
            a3 = FloatMathNeon.Clamp(a3, lo, hi);
        }
        AdvSimd.Store(dst, a0);
        AdvSimd.Store(dst + 4, a1);
        AdvSimd.Store(dst + 8, a2);
        AdvSimd.Store(dst + 12, a3);
    }

    public static int Blocks16(float* input, float* weights, float* bias, float* dst, int* inOff, int* wOff, int n, int channels, bool clamp, float loS, float hiS)
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
