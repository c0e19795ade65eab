namespace EdgeAgent.Kernels;

/// <summary>
/// Int8 pooling in portable C#, the specification. Max: the largest input in the window (padding never wins).
/// Average: <c>acc = sum over the window's inputs of (x - zpIn)</c> (padding adds 0), divisor = the number of
/// inputs, or of padded positions with count_include_pad; <c>out = clamp(RNE((float)acc * sx / (sy * divisor)) + zpOut)</c>.
/// Global average: the same over the whole H x W plane.
/// </summary>
internal static class PoolingScalar
{
    public static void Max<T>(in PoolArgs<T> a) where T : unmanaged
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, outWidth = g.OutputWidth;
        int empty = Int8.Range<T>().Min;
        for (int oy = a.RowStart; oy < a.RowEnd; oy++)
        for (int ox = 0; ox < outWidth; ox++)
        for (int c = 0; c < channels; c++)
        {
            int m = empty;
            for (int ky = 0; ky < g.KernelHeight; ky++)
            for (int kx = 0; kx < g.KernelWidth; kx++)
            {
                int iy = oy * g.StrideHeight - g.PadTop + ky * g.DilationHeight;
                int ix = ox * g.StrideWidth - g.PadLeft + kx * g.DilationWidth;
                if ((uint)iy < (uint)g.InputHeight && (uint)ix < (uint)g.InputWidth)
                    m = Math.Max(m, Int8.Load(a.Input, (iy * g.InputWidth + ix) * channels + c));
            }
            Int8.Store(a.Destination, (oy * outWidth + ox) * channels + c, m);
        }
    }

    public static void Average<T>(in PoolArgs<T> a) where T : unmanaged
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, outWidth = g.OutputWidth, zp = a.InputZeroPoint;
        var (lo, hi) = Requantization.Bounds(a.Output);
        for (int oy = a.RowStart; oy < a.RowEnd; oy++)
        for (int ox = 0; ox < outWidth; ox++)
        {
            int valid = 0;
            for (int ky = 0; ky < g.KernelHeight; ky++)
            for (int kx = 0; kx < g.KernelWidth; kx++)
            {
                int iy = oy * g.StrideHeight - g.PadTop + ky * g.DilationHeight;
                int ix = ox * g.StrideWidth - g.PadLeft + kx * g.DilationWidth;
                if ((uint)iy < (uint)g.InputHeight && (uint)ix < (uint)g.InputWidth) valid++;
            }
            float scale = a.AverageScale(Math.Max(1, a.Divisor(oy, ox, valid)));
            for (int c = 0; c < channels; c++)
            {
                int acc = 0;
                for (int ky = 0; ky < g.KernelHeight; ky++)
                for (int kx = 0; kx < g.KernelWidth; kx++)
                {
                    int iy = oy * g.StrideHeight - g.PadTop + ky * g.DilationHeight;
                    int ix = ox * g.StrideWidth - g.PadLeft + kx * g.DilationWidth;
                    if ((uint)iy < (uint)g.InputHeight && (uint)ix < (uint)g.InputWidth)
                        acc += Int8.Load(a.Input, (iy * g.InputWidth + ix) * channels + c) - zp;
                }
                Int8.Store(a.Destination, (oy * outWidth + ox) * channels + c, Requantization.Requantize(acc, scale, lo, hi, a.Output.ZeroPoint));
            }
        }
    }

    public static void GlobalAverage<T>(ReadOnlySpan<T> input, int spatial, int channels, int zp, float scale, QuantizedOutput output,
        Span<T> destination, int channelStart, int channelEnd) where T : unmanaged
    {
        var (lo, hi) = Requantization.Bounds(output);
        for (int c = channelStart; c < channelEnd; c++)
        {
            int acc = 0;
            for (int s = 0; s < spatial; s++) acc += Int8.Load(input, s * channels + c) - zp;
            Int8.Store(destination, c, Requantization.Requantize(acc, scale, lo, hi, output.ZeroPoint));
        }
    }
}
