using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeAgent.Kernels;

/// <summary>
/// Int8 pooling for NEON, NHWC. Max: UMAX/SMAX over each output pixel's valid taps, 16 channels per step.
/// Average: per tap USUBL/SSUBL against the zero point and SADDW/SADDW2 into four int32 accumulators, 16 channels
/// per step, then the shared requantization. Global average: the same down the whole plane.
/// Channel remainders run the scalar arithmetic.
/// </summary>
internal static unsafe class PoolingNeon
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
                    for (; c + 16 <= channels; c += 16)
                    {
                        Vector128<byte> m = AdvSimd.LoadVector128((byte*)(input + off[0] + c));
                        for (int t = 1; t < n; t++) m = Max<T>(m, AdvSimd.LoadVector128((byte*)(input + off[t] + c)));
                        AdvSimd.Store((byte*)(dst + c), m);
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
    private static Vector128<byte> Max<T>(Vector128<byte> x, Vector128<byte> y) where T : unmanaged =>
        typeof(T) == typeof(byte) ? AdvSimd.Max(x, y) : AdvSimd.Max(x.AsSByte(), y.AsSByte()).AsByte();

    public static void Average<T>(in PoolArgs<T> a) where T : unmanaged
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, outWidth = g.OutputWidth, taps = g.KernelHeight * g.KernelWidth, zp = a.InputZeroPoint;
        Span<int> offsets = taps <= 256 ? stackalloc int[taps] : new int[taps];
        var (loS, hiS) = Requantization.Bounds(a.Output);
        Vector128<float> lo = Vector128.Create(loS), hi = Vector128.Create(hiS);
        Vector128<int> zpOut = Vector128.Create(a.Output.ZeroPoint);
        Vector128<byte> zpIn = RequantizationNeon.ZeroPointBytes(zp);
        fixed (T* input = a.Input)
        fixed (T* output = a.Destination)
        fixed (int* off = offsets)
        {
            for (int oy = a.RowStart; oy < a.RowEnd; oy++)
            for (int ox = 0; ox < outWidth; ox++)
            {
                int n = a.GatherTaps(oy, ox, offsets);
                float scaleS = a.AverageScale(Math.Max(1, a.Divisor(oy, ox, n)));
                Vector128<float> scale = Vector128.Create(scaleS);
                T* dst = output + (oy * outWidth + ox) * channels;
                int c = 0;
                for (; c + 16 <= channels; c += 16)
                {
                    Vector128<int> acc0 = Vector128<int>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
                    for (int t = 0; t < n; t++)
                    {
                        RequantizationNeon.Load16MinusZeroPoint(input + off[t] + c, zpIn, out var xl, out var xh);
                        acc0 = AdvSimd.AddWideningLower(acc0, xl.GetLower());
                        acc1 = AdvSimd.AddWideningUpper(acc1, xl);
                        acc2 = AdvSimd.AddWideningLower(acc2, xh.GetLower());
                        acc3 = AdvSimd.AddWideningUpper(acc3, xh);
                    }
                    RequantizationNeon.Store16(dst + c,
                        RequantizationNeon.Requantize(acc0, scale, lo, hi, zpOut),
                        RequantizationNeon.Requantize(acc1, scale, lo, hi, zpOut),
                        RequantizationNeon.Requantize(acc2, scale, lo, hi, zpOut),
                        RequantizationNeon.Requantize(acc3, scale, lo, hi, zpOut));
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
        Vector128<float> lo = Vector128.Create(loS), hi = Vector128.Create(hiS), scale = Vector128.Create(scaleS);
        Vector128<int> zpOut = Vector128.Create(output.ZeroPoint);
        Vector128<byte> zpIn = RequantizationNeon.ZeroPointBytes(zp);
        int c = channelStart;
        fixed (T* input = inputSpan)
        fixed (T* dst = destination)
        {
            for (; c + 16 <= channelEnd; c += 16)
            {
                Vector128<int> acc0 = Vector128<int>.Zero, acc1 = acc0, acc2 = acc0, acc3 = acc0;
                T* p = input + c;
                for (int s = 0; s < spatial; s++, p += channels)
                {
                    RequantizationNeon.Load16MinusZeroPoint(p, zpIn, out var xl, out var xh);
                    acc0 = AdvSimd.AddWideningLower(acc0, xl.GetLower());
                    acc1 = AdvSimd.AddWideningUpper(acc1, xl);
                    acc2 = AdvSimd.AddWideningLower(acc2, xh.GetLower());
                    acc3 = AdvSimd.AddWideningUpper(acc3, xh);
                }
                RequantizationNeon.Store16(dst + c,
                    RequantizationNeon.Requantize(acc0, scale, lo, hi, zpOut),
                    RequantizationNeon.Requantize(acc1, scale, lo, hi, zpOut),
                    RequantizationNeon.Requantize(acc2, scale, lo, hi, zpOut),
                    RequantizationNeon.Requantize(acc3, scale, lo, hi, zpOut));
            }
        }
        PoolingScalar.GlobalAverage(inputSpan, spatial, channels, zp, scaleS, output, destination, c, channelEnd);
    }
}
