using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// Float depthwise convolution for AVX2/FMA: 16 channels per step in two YMM accumulators, one VFMADD231PS chain per
/// lane over the taps in (ky, kx) order, as in <see cref="DepthwiseConvFloatScalar"/>. Inside the image, four
/// neighbouring output pixels go together: their taps are gathered once and each weight load feeds four FMAs.
/// </summary>
internal readonly unsafe struct DepthwiseConvFloatAvx2 : IDepthwiseFloatBlocks
{
    /// <summary>16-channel blocks of four output pixels <paramref name="step"/> floats apart; returns the channels done.</summary>
    public static int Four16(float* input, int step, float* weights, float* bias, float* dst, int* inOff, int* wOff, int n, int channels,
                              bool clamp, float loS, float hiS)
    {
        Vector256<float> lo = Vector256.Create(loS), hi = Vector256.Create(hiS);
        nint s1 = step, s2 = 2 * step, s3 = 3 * step;
        int c = 0;
        for (; c + 16 <= channels; c += 16)
        {
            Vector256<float> b0 = bias != null ? Avx.LoadVector256(bias + c) : Vector256<float>.Zero;
            Vector256<float> b1 = bias != null ? Avx.LoadVector256(bias + c + 8) : Vector256<float>.Zero;
            Vector256<float> p0l = b0, p0h = b1, p1l = b0, p1h = b1, p2l = b0, p2h = b1, p3l = b0, p3h = b1;
            for (int t = 0; t < n; t++)
            {
                float* x = input + inOff[t] + c, w = weights + wOff[t] + c;
                Vector256<float> wl = Avx.LoadVector256(w), wh = Avx.LoadVector256(w + 8);
                p0l = Fma.MultiplyAdd(Avx.LoadVector256(x), wl, p0l);
                p0h = Fma.MultiplyAdd(Avx.LoadVector256(x + 8), wh, p0h);
                p1l = Fma.MultiplyAdd(Avx.LoadVector256(x + s1), wl, p1l);
                p1h = Fma.MultiplyAdd(Avx.LoadVector256(x + s1 + 8), wh, p1h);
                p2l = Fma.MultiplyAdd(Avx.LoadVector256(x + s2), wl, p2l);
                p2h = Fma.MultiplyAdd(Avx.LoadVector256(x + s2 + 8), wh, p2h);
                p3l = Fma.MultiplyAdd(Avx.LoadVector256(x + s3), wl, p3l);
                p3h = Fma.MultiplyAdd(Avx.LoadVector256(x + s3 + 8), wh, p3h);
            }
            Store(dst + c, p0l, p0h, clamp, lo, hi);
            Store(dst + channels + c, p1l, p1h, clamp, lo, hi);
            Store(dst + 2 * channels + c, p2l, p2h, clamp, lo, hi);
            Store(dst + 3 * channels + c, p3l, p3h, clamp, lo, hi);
        }
        return c;
    }

    private static void Store(float* dst, Vector256<float> l, Vector256<float> h, bool clamp, Vector256<float> lo, Vector256<float> hi)
    {
        if (clamp)
        {
            l = FloatMathAvx2.Clamp(l, lo, hi);
            h = FloatMathAvx2.Clamp(h, lo, hi);
        }
        Avx.Store(dst, l);
        Avx.Store(dst + 8, h);
    }

    public static int Blocks16(float* input, float* weights, float* bias, float* dst, int* inOff, int* wOff, int n, int channels, bool clamp, float loS, float hiS)
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
