using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// Int8 pooling for AVX2, NHWC. Max: VPMAXUB/VPMAXSB over each output pixel's valid taps, 32 channels per step.
/// Average: per tap VPMOVZXBW/VPMOVSXBW minus the zero point, VPMOVSXWD into two int32 accumulators, 16 channels
/// per step, then the shared requantization. Global average: 16 channels per step down the whole plane.
/// Channel remainders run the scalar arithmetic.
/// </summary>
internal static unsafe class PoolingAvx2
{
    public static void Max<T>(in PoolArgs<T> a) where T : unmanaged
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, outWidth = g.OutputWidth, taps = g.KernelHeight * g.KernelWidth;
        Span<int> offsets = taps <= 256 ? stackalloc int[taps] : new int[taps];
        int empty = Int8.Range<T>().Min;
        fixed (T* input = a.Input)
        fixed (T* output = a.Destination)
        fixed (int* off = offsets)
        {
            for (int oy = a.RowStart; oy < a.RowEnd; oy++)
            for (int ox = 0; ox < outWidth; ox++)
            {
                int n = a.GatherTaps(oy, ox, offsets);
                T* dst = output + (oy * outWidth + ox) * channels;
                int c = 0;
                if (n > 0)
                {
                    for (; c + 32 <= channels; c += 32)
                    {
                        Vector256<byte> m = Avx.LoadVector256((byte*)(input + off[0] + c));
                        for (int t = 1; t < n; t++) m = Max<T>(m, Avx.LoadVector256((byte*)(input + off[t] + c)));
                        Avx.Store((byte*)(dst + c), m);
                    }
                }
                for (; c < channels; c++)
                {
                    int m = empty;
                    for (int t = 0; t < n; t++) m = Math.Max(m, Int8.Load(input + off[t] + c));
                    Int8.Store(dst + c, m);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Max<T>(Vector256<byte> x, Vector256<byte> y) where T : unmanaged =>
        typeof(T) == typeof(byte) ? Avx2.Max(x, y) : Avx2.Max(x.AsSByte(), y.AsSByte()).AsByte();

    public static void Average<T>(in PoolArgs<T> a) where T : unmanaged
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, outWidth = g.OutputWidth, taps = g.KernelHeight * g.KernelWidth, zp = a.InputZeroPoint;
        Span<int> offsets = taps <= 256 ? stackalloc int[taps] : new int[taps];
        var (loS, hiS) = Requantization.Bounds(a.Output);
        Vector256<float> lo = Vector256.Create(loS), hi = Vector256.Create(hiS);
        Vector256<int> zpOut = Vector256.Create(a.Output.ZeroPoint);
        Vector256<short> zpIn = Vector256.Create((short)zp);
        fixed (T* input = a.Input)
        fixed (T* output = a.Destination)
        fixed (int* off = offsets)
        {
            for (int oy = a.RowStart; oy < a.RowEnd; oy++)
            for (int ox = 0; ox < outWidth; ox++)
            {
                int n = a.GatherTaps(oy, ox, offsets);
                float scaleS = a.AverageScale(Math.Max(1, a.Divisor(oy, ox, n)));
                Vector256<float> scale = Vector256.Create(scaleS);
                T* dst = output + (oy * outWidth + ox) * channels;
                int c = 0;
                for (; c + 16 <= channels; c += 16)
                {
                    Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero;
                    for (int t = 0; t < n; t++)
                    {
                        Vector256<short> x = Avx2.Subtract(RequantizationAvx2.Load16Widen(input + off[t] + c), zpIn);
                        acc0 = Avx2.Add(acc0, Avx2.ConvertToVector256Int32(x.GetLower()));
                        acc1 = Avx2.Add(acc1, Avx2.ConvertToVector256Int32(x.GetUpper()));
                    }
                    RequantizationAvx2.Store16(dst + c,
                        RequantizationAvx2.Requantize(acc0, scale, lo, hi, zpOut),
                        RequantizationAvx2.Requantize(acc1, scale, lo, hi, zpOut));
                }
                for (; c < channels; c++)
                {
                    int acc = 0;
                    for (int t = 0; t < n; t++) acc += Int8.Load(input + off[t] + c) - zp;
                    Int8.Store(dst + c, Requantization.Requantize(acc, scaleS, loS, hiS, a.Output.ZeroPoint));
                }
            }
        }
    }

    public static void GlobalAverage<T>(ReadOnlySpan<T> inputSpan, int spatial, int channels, int zp, float scaleS, QuantizedOutput output,
        Span<T> destination, int channelStart, int channelEnd) where T : unmanaged
    {
        var (loS, hiS) = Requantization.Bounds(output);
        Vector256<float> lo = Vector256.Create(loS), hi = Vector256.Create(hiS), scale = Vector256.Create(scaleS);
        Vector256<int> zpOut = Vector256.Create(output.ZeroPoint), offset = Vector256.Create(spatial * zp);
        int c = channelStart;
        fixed (T* input = inputSpan)
        fixed (T* dst = destination)
        {
            for (; c + 16 <= channelEnd; c += 16)
            {
                Vector256<int> acc0 = Vector256<int>.Zero, acc1 = Vector256<int>.Zero;
                T* p = input + c;
                for (int s = 0; s < spatial; s++, p += channels)
                {
                    acc0 = Avx2.Add(acc0, RequantizationAvx2.Load8Widen(p));
                    acc1 = Avx2.Add(acc1, RequantizationAvx2.Load8Widen(p + 8));
                }
                // sum(x) - spatial * zp is sum(x - zp), exactly.
                RequantizationAvx2.Store16(dst + c,
                    RequantizationAvx2.Requantize(Avx2.Subtract(acc0, offset), scale, lo, hi, zpOut),
                    RequantizationAvx2.Requantize(Avx2.Subtract(acc1, offset), scale, lo, hi, zpOut));
            }
        }
        PoolingScalar.GlobalAverage(inputSpan, spatial, channels, zp, scaleS, output, destination, c, channelEnd);
    }
}
