namespace EdgeAgent.Kernels;

public sealed partial class KernelTable
{
    /// <summary>
    /// Float depthwise convolution (ONNX Conv with group = channels, multiplier 1) over one NHWC image, output rows
    /// [<paramref name="rowStart"/>, <paramref name="rowStart"/> + <paramref name="rowCount"/>). Each output is one
    /// FMA chain over the taps inside the input in (ky, kx) order, starting from its bias, so every path agrees bit
    /// for bit.
    /// </summary>
    /// <param name="geometry">Input size, kernel size, stride, padding (zeros), dilation.</param>
    /// <param name="channels">Channel count C.</param>
    /// <param name="input">The image, [H][W][C].</param>
    /// <param name="weights">[KH][KW][C].</param>
    /// <param name="bias">C values, or empty.</param>
    /// <param name="activation">Fused clamp, or <see cref="FloatActivation.None"/>.</param>
    /// <param name="destination">The whole output image, [OH][OW][C]; only the requested rows are written.</param>
    /// <param name="rowStart">First output row to compute.</param>
    /// <param name="rowCount">Number of output rows to compute.</param>
    public void DepthwiseConv(in WindowGeometry geometry, int channels, ReadOnlySpan<float> input, ReadOnlySpan<float> weights,
        ReadOnlySpan<float> bias, FloatActivation activation, Span<float> destination, int rowStart, int rowCount)
    {
        const string kernel = "float depthwise conv";
        geometry.Validate();
        if (channels <= 0) throw new ArgumentException($"{kernel}: channels must be positive, got {channels}");
        KernelArguments.CheckLength(kernel, "input", input.Length, (long)geometry.InputHeight * geometry.InputWidth * channels);
        KernelArguments.CheckLength(kernel, "weights", weights.Length, (long)geometry.KernelHeight * geometry.KernelWidth * channels);
        if (!bias.IsEmpty) KernelArguments.CheckLength(kernel, "bias", bias.Length, channels);
        KernelArguments.CheckLength(kernel, "destination", destination.Length, (long)geometry.OutputHeight * geometry.OutputWidth * channels);
        KernelArguments.CheckRange(kernel, "output rows", rowStart, rowCount, geometry.OutputHeight);
        var args = new DepthwiseFloatArgs(geometry, channels, input, weights, bias, activation, destination, rowStart, rowStart + rowCount);
        switch (_floatPath)
        {
            case SimdPath.Neon when System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported: DepthwiseFloatDriver.Run<DepthwiseConvFloatNeon>(args); break;
            case SimdPath.Avx2 when System.Runtime.Intrinsics.X86.X86Base.IsSupported:
            case SimdPath.Avx512 when System.Runtime.Intrinsics.X86.X86Base.IsSupported: DepthwiseFloatDriver.Run<DepthwiseConvFloatAvx2>(args); break;
            default: DepthwiseConvFloatScalar.Run(args); break;
        }
    }
}
