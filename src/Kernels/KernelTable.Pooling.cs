namespace EdgeAgent.Kernels;

// Pooling runs on the same vector path as the depthwise convolution (set in FillDepthwise): both are window kernels.
public sealed partial class KernelTable
{
    /// <summary>
    /// Int8 max pooling (ONNX MaxPool on a quantized tensor; input and output share scale and zero point) over one
    /// NHWC image of u8 values, output rows [<paramref name="rowStart"/>, <paramref name="rowStart"/> + <paramref name="rowCount"/>).
    /// Padding never wins; a window with no input inside writes the type's minimum.
    /// </summary>
    public void MaxPool(in WindowGeometry geometry, int channels, ReadOnlySpan<byte> input, Span<byte> destination, int rowStart, int rowCount)
    {
        CheckPool("max pool", geometry, channels, input.Length, destination.Length, rowStart, rowCount);
        RunMaxPool(new PoolArgs<byte>(geometry, channels, input, destination, rowStart, rowStart + rowCount));
    }

    /// <summary>Int8 max pooling of s8 values; otherwise as the u8 overload.</summary>
    public void MaxPool(in WindowGeometry geometry, int channels, ReadOnlySpan<sbyte> input, Span<sbyte> destination, int rowStart, int rowCount)
    {
        CheckPool("max pool", geometry, channels, input.Length, destination.Length, rowStart, rowCount);
        RunMaxPool(new PoolArgs<sbyte>(geometry, channels, input, destination, rowStart, rowStart + rowCount));
    }

    /// <summary>
    /// Int8 average pooling (ONNX AveragePool / QLinearAveragePool) over one NHWC image of u8 values:
    /// <c>out = clamp(RNE(sum(x - zpIn) * inputScale / (outputScale * divisor)) + zpOut)</c>, where the divisor counts the
    /// window's inputs, or also its padded positions when <paramref name="countIncludePad"/>.
    /// Output rows [<paramref name="rowStart"/>, <paramref name="rowStart"/> + <paramref name="rowCount"/>).
    /// </summary>
    public void AveragePool(in WindowGeometry geometry, int channels, ReadOnlySpan<byte> input, int inputZeroPoint, float inputScale,
        float outputScale, QuantizedOutput output, bool countIncludePad, Span<byte> destination, int rowStart, int rowCount)
    {
        CheckPool("average pool", geometry, channels, input.Length, destination.Length, rowStart, rowCount);
        CheckPoolQuant("average pool", inputZeroPoint, inputScale, outputScale, output, 0, 255);
        RunAveragePool(new PoolArgs<byte>(geometry, channels, input, destination, rowStart, rowStart + rowCount, inputZeroPoint, inputScale, outputScale, output, countIncludePad));
    }

    /// <summary>Int8 average pooling of s8 values; otherwise as the u8 overload.</summary>
    public void AveragePool(in WindowGeometry geometry, int channels, ReadOnlySpan<sbyte> input, int inputZeroPoint, float inputScale,
        float outputScale, QuantizedOutput output, bool countIncludePad, Span<sbyte> destination, int rowStart, int rowCount)
    {
        CheckPool("average pool", geometry, channels, input.Length, destination.Length, rowStart, rowCount);
        CheckPoolQuant("average pool", inputZeroPoint, inputScale, outputScale, output, -128, 127);
        RunAveragePool(new PoolArgs<sbyte>(geometry, channels, input, destination, rowStart, rowStart + rowCount, inputZeroPoint, inputScale, outputScale, output, countIncludePad));
    }

    /// <summary>
    /// Int8 global average pooling (ONNX GlobalAveragePool / QLinearGlobalAveragePool) of one NHWC image of u8 values,
    /// [<paramref name="spatial"/> = H x W][C] to [C], for channels [<paramref name="channelStart"/>, <paramref name="channelStart"/> + <paramref name="channelCount"/>).
    /// </summary>
    public void GlobalAveragePool(int spatial, int channels, ReadOnlySpan<byte> input, int inputZeroPoint, float inputScale,
        float outputScale, QuantizedOutput output, Span<byte> destination, int channelStart, int channelCount)
    {
        CheckGlobalPool(spatial, channels, input.Length, destination.Length, channelStart, channelCount);
        CheckPoolQuant("global average pool", inputZeroPoint, inputScale, outputScale, output, 0, 255);
        RunGlobalAveragePool(input, spatial, channels, inputZeroPoint, AveragePooling.Scale(inputScale, outputScale, spatial), output, destination, channelStart, channelStart + channelCount);
    }

    /// <summary>Int8 global average pooling of s8 values; otherwise as the u8 overload.</summary>
    public void GlobalAveragePool(int spatial, int channels, ReadOnlySpan<sbyte> input, int inputZeroPoint, float inputScale,
        float outputScale, QuantizedOutput output, Span<sbyte> destination, int channelStart, int channelCount)
    {
        CheckGlobalPool(spatial, channels, input.Length, destination.Length, channelStart, channelCount);
        CheckPoolQuant("global average pool", inputZeroPoint, inputScale, outputScale, output, -128, 127);
        RunGlobalAveragePool(input, spatial, channels, inputZeroPoint, AveragePooling.Scale(inputScale, outputScale, spatial), output, destination, channelStart, channelStart + channelCount);
    }

    private void RunMaxPool<T>(in PoolArgs<T> args) where T : unmanaged
    {
        switch (_depthwisePath)
        {
            case SimdPath.Neon when System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported: PoolingNeon.Max(args); break;
            case SimdPath.Avx2 when System.Runtime.Intrinsics.X86.X86Base.IsSupported:
            case SimdPath.Avx512 when System.Runtime.Intrinsics.X86.X86Base.IsSupported: PoolingAvx2.Max(args); break;
            default: PoolingScalar.Max(args); break;
        }
    }

    private void RunAveragePool<T>(in PoolArgs<T> args) where T : unmanaged
    {
        switch (_depthwisePath)
        {
            case SimdPath.Neon when System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported: PoolingNeon.Average(args); break;
            case SimdPath.Avx2 when System.Runtime.Intrinsics.X86.X86Base.IsSupported:
            case SimdPath.Avx512 when System.Runtime.Intrinsics.X86.X86Base.IsSupported: PoolingAvx2.Average(args); break;
            default: PoolingScalar.Average(args); break;
        }
    }

    private void RunGlobalAveragePool<T>(ReadOnlySpan<T> input, int spatial, int channels, int zp, float scale, QuantizedOutput output,
        Span<T> destination, int channelStart, int channelEnd) where T : unmanaged
    {
        switch (_depthwisePath)
        {
            case SimdPath.Neon when System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported: PoolingNeon.GlobalAverage(input, spatial, channels, zp, scale, output, destination, channelStart, channelEnd); break;
            case SimdPath.Avx2 when System.Runtime.Intrinsics.X86.X86Base.IsSupported:
            case SimdPath.Avx512 when System.Runtime.Intrinsics.X86.X86Base.IsSupported: PoolingAvx2.GlobalAverage(input, spatial, channels, zp, scale, output, destination, channelStart, channelEnd); break;
            default: PoolingScalar.GlobalAverage(input, spatial, channels, zp, scale, output, destination, channelStart, channelEnd); break;
        }
    }

    private static void CheckPool(string kernel, in WindowGeometry g, int channels, int inputLength, int destinationLength, int rowStart, int rowCount)
    {
        g.Validate();
        if (channels <= 0) throw new ArgumentException($"{kernel}: channels must be positive, got {channels}");
        KernelArguments.CheckLength(kernel, "input", inputLength, (long)g.InputHeight * g.InputWidth * channels);
        KernelArguments.CheckLength(kernel, "destination", destinationLength, (long)g.OutputHeight * g.OutputWidth * channels);
        KernelArguments.CheckRange(kernel, "output rows", rowStart, rowCount, g.OutputHeight);
    }

    private static void CheckGlobalPool(int spatial, int channels, int inputLength, int destinationLength, int channelStart, int channelCount)
    {
        const string kernel = "global average pool";
        if (spatial <= 0 || channels <= 0) throw new ArgumentException($"{kernel}: spatial size and channels must be positive, got {spatial} and {channels}");
        KernelArguments.CheckLength(kernel, "input", inputLength, (long)spatial * channels);
        KernelArguments.CheckLength(kernel, "destination", destinationLength, channels);
        KernelArguments.CheckRange(kernel, "channels", channelStart, channelCount, channels);
    }

    private static void CheckPoolQuant(string kernel, int inputZeroPoint, float inputScale, float outputScale, QuantizedOutput output, int min, int max)
    {
        if (inputZeroPoint < min || inputZeroPoint > max) throw new ArgumentException($"{kernel}: input zero point {inputZeroPoint} outside {min}..{max}");
        if (!(inputScale > 0) || !float.IsFinite(inputScale)) throw new ArgumentException($"{kernel}: input scale must be positive and finite, got {inputScale}");
        if (!(outputScale > 0) || !float.IsFinite(outputScale)) throw new ArgumentException($"{kernel}: output scale must be positive and finite, got {outputScale}");
        if (output.Min < min || output.Max > max) throw new ArgumentException($"{kernel}: output range {output.Min}..{output.Max} does not fit the element type ({min}..{max})");
    }
}
