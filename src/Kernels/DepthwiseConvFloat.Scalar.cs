namespace EdgeAgent.Kernels;

/// <summary>
/// Float depthwise convolution, NHWC, weights [KH][KW][C]. Specification (scalar): for each output element,
/// <c>acc = bias[c]</c> (or 0), then for the taps inside the input in (ky, kx) order <c>acc = fma(x, w, acc)</c>,
/// then the fused clamp. The vector forms run the same chain per lane, 16 channels per step (four NEON or two
/// AVX2 vectors), the channel remainder in scalar.
/// </summary>
internal static class DepthwiseConvFloatScalar
{
    public static void Run(in DepthwiseFloatArgs a)
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, outWidth = g.OutputWidth;
        for (int oy = a.RowStart; oy < a.RowEnd; oy++)
        for (int ox = 0; ox < outWidth; ox++)
        for (int c = 0; c < channels; c++)
        {
            float acc = a.Bias.IsEmpty ? 0f : a.Bias[c];
            for (int ky = 0; ky < g.KernelHeight; ky++)
            for (int kx = 0; kx < g.KernelWidth; kx++)
            {
                int iy = oy * g.StrideHeight - g.PadTop + ky * g.DilationHeight;
                int ix = ox * g.StrideWidth - g.PadLeft + kx * g.DilationWidth;
                if ((uint)iy < (uint)g.InputHeight && (uint)ix < (uint)g.InputWidth)
                    acc = MathF.FusedMultiplyAdd(a.Input[(iy * g.InputWidth + ix) * channels + c], a.Weights[(ky * g.KernelWidth + kx) * channels + c], acc);
            }
            a.Destination[(oy * outWidth + ox) * channels + c] = a.Activation.Apply(acc);
        }
    }
}
