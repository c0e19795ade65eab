namespace EdgeAgent.Kernels;

/// <summary>
/// Int8 depthwise convolution, portable C#: the readable specification the vector kernels are tested against.
/// For every output pixel and channel c:
/// <c>acc = bias[c] + sum over taps of (x - zpIn) * w[tap, c]</c>, where a tap in the padding reads zpIn;
/// then <c>out = clamp(RNE((float)acc * scale[c]) + zpOut)</c> (see <see cref="Requantization"/>).
/// </summary>
internal static class DepthwiseConvScalar
{
    public static void Run<T>(in DepthwiseArgs<T> a) where T : unmanaged
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, outWidth = g.OutputWidth, zpIn = a.InputZeroPoint;
        var (lo, hi) = Requantization.Bounds(a.Output);
        for (int oy = a.RowStart; oy < a.RowEnd; oy++)
        {
            for (int ox = 0; ox < outWidth; ox++)
            {
                for (int c = 0; c < channels; c++)
                {
                    int acc = a.Bias.IsEmpty ? 0 : a.Bias[c];
                    for (int ky = 0; ky < g.KernelHeight; ky++)
                    {
                        int iy = oy * g.StrideHeight - g.PadTop + ky * g.DilationHeight;
                        for (int kx = 0; kx < g.KernelWidth; kx++)
                        {
                            int ix = ox * g.StrideWidth - g.PadLeft + kx * g.DilationWidth;
                            bool inside = (uint)iy < (uint)g.InputHeight && (uint)ix < (uint)g.InputWidth;
                            int x = inside ? Int8.Load(a.Input, (iy * g.InputWidth + ix) * channels + c) : zpIn;
                            acc += (x - zpIn) * a.Weights[(ky * g.KernelWidth + kx) * channels + c];
                        }
                    }
                    int q = Requantization.Requantize(acc, a.Scales[c], lo, hi, a.Output.ZeroPoint);
                    Int8.Store(a.Destination, (oy * outWidth + ox) * channels + c, q);
                }
            }
        }
    }
}
