namespace EdgeAgent.Kernels;

/// <summary>
/// Direct int8 convolution, portable C#: the readable specification the vector path is tested against. For every
/// output pixel and channel o: <c>acc = bias[o] + sum over (ky, kx, c) of (x - zpIn) * w[o, c, ky, kx]</c>, where
/// a tap in the padding reads zpIn; then <c>out = clamp(RNE((float)acc * scale[o]) + zpOut)</c>.
/// </summary>
internal static class QConvDirectScalar
{
    public static void Run<T>(in QConvDirectArgs<T> a) where T : unmanaged
    {
        var s = a.Conv.Shape;
        var w = a.Conv.Weights;
        int cin = s.InChannels, cout = s.OutChannels, zp = a.InputZeroPoint;
        var (lo, hi) = Requantization.Bounds(a.Output);
        for (int row = a.RowStart; row < a.RowEnd; row++)
        {
            int n = row / s.OutHeight, oy = row % s.OutHeight;
            for (int ox = 0; ox < s.OutWidth; ox++)
            {
                int outBase = ((n * s.OutHeight + oy) * s.OutWidth + ox) * cout;
                for (int o = 0; o < cout; o++)
                {
                    int acc = a.Bias.IsEmpty ? 0 : a.Bias[o];
                    for (int ky = 0; ky < s.KernelHeight; ky++)
                    {
                        int iy = oy * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                        for (int kx = 0; kx < s.KernelWidth; kx++)
                        {
                            int ix = ox * s.StrideWidth - s.PadLeft + kx * s.DilationWidth;
                            bool inside = (uint)iy < (uint)s.Height && (uint)ix < (uint)s.Width;
                            for (int c = 0; c < cin; c++)
                            {
                                int x = inside ? Int8.Load(a.Input, ((n * s.Height + iy) * s.Width + ix) * cin + c) : zp;
                                acc += (x - zp) * w[((o * cin + c) * s.KernelHeight + ky) * s.KernelWidth + kx];
                            }
                        }
                    }
                    float scale = a.Scales.Length == 1 ? a.Scales[0] : a.Scales[o];
                    Int8.Store(a.Destination, outBase + o, Requantization.Requantize(acc, scale, lo, hi, a.Output.ZeroPoint));
                }
            }
        }
    }
}
