using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// Int8 depthwise convolution for AVX2, NHWC, 16 channels per step. Per tap: VPMOVZXBW/VPMOVSXBW the
/// input, subtract the zero point, VPMOVSXBW the weights, VPMULLW (exact: |x - zp| &lt;= 255 and |w| &lt;= 128
/// give a product within int16), then VPMOVSXWD into two int32 accumulators. The taps of each output pixel
/// are gathered once (padding left out), so the same code serves 3x3, 5x5, any stride and dilation.
/// Channels past the last multiple of 16 go through the scalar arithmetic, which is the same arithmetic.
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
    }
}
