namespace EdgeAgent.Kernels;

public sealed partial class KernelTable
{
    private SimdPath _depthwisePath;

    partial void FillDepthwise() => _depthwisePath = SimdPaths.For(Isa);

    /// <summary>
    /// Int8 depthwise convolution (ONNX QLinearConv with group = channels, multiplier 1) over one NHWC image,
    /// u8 activations. Computes output rows [<paramref name="rowStart"/>, <paramref name="rowStart"/> + <paramref name="rowCount"/>)
    /// so callers can split rows over threads; results do not depend on the split.
    /// </summary>
    /// <param name="geometry">Input size, kernel size (3x3 and 5x5 are the tuned cases; any size works), stride, padding, dilation.</param>
    /// <param name="channels">Channel count C.</param>
    /// <param name="input">The image, [H][W][C]. Padding reads as <paramref name="inputZeroPoint"/>.</param>
    /// <param name="inputZeroPoint">Input zero point.</param>
    /// <param name="weights">Symmetric s8 weights (zero point 0), [KH][KW][C].</param>
    /// <param name="bias">int32 bias per channel (in units of input scale x weight scale), or empty for none.</param>
    /// <param name="scales">Per-channel requantization scale: inputScale * weightScale[c] / outputScale.</param>
    /// <param name="output">Output zero point and clamp (fused activation).</param>
    /// <param name="destination">The whole output image, [OH][OW][C]; only the requested rows are written.</param>
    /// <param name="rowStart">First output row to compute.</param>
    /// <param name="rowCount">Number of output rows to compute.</param>
    public void DepthwiseConv(in WindowGeometry geometry, int channels, ReadOnlySpan<byte> input, int inputZeroPoint,
        ReadOnlySpan<sbyte> weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> scales, QuantizedOutput output,
        Span<byte> destination, int rowStart, int rowCount)
    {
        CheckDepthwise(geometry, channels, input.Length, inputZeroPoint, 0, 255, weights.Length, bias.Length, scales.Length, output, destination.Length, rowStart, rowCount);
        RunDepthwise(new DepthwiseArgs<byte>(geometry, channels, input, inputZeroPoint, weights, bias, scales, output, destination, rowStart, rowStart + rowCount));
    }

    /// <summary>
    /// Int8 depthwise convolution over one NHWC image with s8 activations; otherwise the same as the u8 overload.
    /// </summary>
    public void DepthwiseConv(in WindowGeometry geometry, int channels, ReadOnlySpan<sbyte> input, int inputZeroPoint,
        ReadOnlySpan<sbyte> weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> scales, QuantizedOutput output,
        Span<sbyte> destination, int rowStart, int rowCount)
    {
        CheckDepthwise(geometry, channels, input.Length, inputZeroPoint, -128, 127, weights.Length, bias.Length, scales.Length, output, destination.Length, rowStart, rowCount);
        RunDepthwise(new DepthwiseArgs<sbyte>(geometry, channels, input, inputZeroPoint, weights, bias, scales, output, destination, rowStart, rowStart + rowCount));
    }

    /// <summary>
    /// Prepares depthwise weights <c>[KH][KW][C]</c> once for this path (on NEON also widened to int16), for the
    /// <see cref="DepthwiseConv(in WindowGeometry, int, ReadOnlySpan{byte}, int, DepthwiseWeights, ReadOnlySpan{int}, ReadOnlySpan{float}, QuantizedOutput, Span{byte}, int, int)"/>
    /// overloads: what a model's node does at load, so no call widens them again.
    /// </summary>
    public DepthwiseWeights PackDepthwise(ReadOnlySpan<sbyte> weights, int taps, int channels)
    {
        if (taps <= 0 || channels <= 0) throw new ArgumentException($"depthwise weights: taps ({taps}) and channels ({channels}) must be positive");
        KernelArguments.CheckLength("depthwise weights", "weights", weights.Length, (long)taps * channels);
        short[] widened = [];
        if (_depthwisePath == SimdPath.Neon)
        {
            widened = new short[weights.Length];
            for (int i = 0; i < weights.Length; i++) widened[i] = weights[i];
        }
        return new DepthwiseWeights(this, taps, channels, weights.ToArray(), widened);
    }

    /// <summary>The u8 depthwise convolution with weights prepared by <see cref="PackDepthwise"/>; otherwise as the span overload.</summary>
    public void DepthwiseConv(in WindowGeometry geometry, int channels, ReadOnlySpan<byte> input, int inputZeroPoint,
        DepthwiseWeights weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> scales, QuantizedOutput output,
        Span<byte> destination, int rowStart, int rowCount)
    {
        CheckPacked(weights, geometry, channels);
        CheckDepthwise(geometry, channels, input.Length, inputZeroPoint, 0, 255, weights.Bytes.Length, bias.Length, scales.Length, output, destination.Length, rowStart, rowCount);
        RunDepthwise(new DepthwiseArgs<byte>(geometry, channels, input, inputZeroPoint, weights.Bytes, bias, scales, output, destination, rowStart, rowStart + rowCount, weights.Widened, weights));
    }

    /// <summary>The s8 depthwise convolution with weights prepared by <see cref="PackDepthwise"/>; otherwise as the span overload.</summary>
    public void DepthwiseConv(in WindowGeometry geometry, int channels, ReadOnlySpan<sbyte> input, int inputZeroPoint,
        DepthwiseWeights weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> scales, QuantizedOutput output,
        Span<sbyte> destination, int rowStart, int rowCount)
    {
        CheckPacked(weights, geometry, channels);
        CheckDepthwise(geometry, channels, input.Length, inputZeroPoint, -128, 127, weights.Bytes.Length, bias.Length, scales.Length, output, destination.Length, rowStart, rowCount);
        RunDepthwise(new DepthwiseArgs<sbyte>(geometry, channels, input, inputZeroPoint, weights.Bytes, bias, scales, output, destination, rowStart, rowStart + rowCount, weights.Widened, weights));
    }

    private void CheckPacked(DepthwiseWeights weights, in WindowGeometry g, int channels)
    {
        ArgumentNullException.ThrowIfNull(weights);
        if (weights.Table.Isa != Isa)
            throw new ArgumentException($"depthwise conv: the weights were prepared for kernel path '{weights.Table.Name}', not '{Name}'");
        if (weights.Taps != g.KernelHeight * g.KernelWidth || weights.Channels != channels)
            throw new ArgumentException($"depthwise conv: the weights were prepared for {weights.Taps} taps x {weights.Channels} channels, " +
                $"the call has {g.KernelHeight}x{g.KernelWidth} taps x {channels} channels");
    }

    private void RunDepthwise<T>(in DepthwiseArgs<T> args) where T : unmanaged
    {
        switch (_depthwisePath)
        {
            case SimdPath.Neon when System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported: DepthwiseConvNeon.Run(args); break;
            case SimdPath.Avx2 when System.Runtime.Intrinsics.X86.X86Base.IsSupported:
            case SimdPath.Avx512 when System.Runtime.Intrinsics.X86.X86Base.IsSupported:
                if (DepthwiseConv3x3RowPairsAvx512.Handles(Isa, args.Geometry, args.Channels))
                {
                    DepthwiseConv3x3RowPairsAvx512.Run(args);
                    break;
                }
                if (DepthwiseConv3x3F32Avx512.Handles(Isa, args.Geometry, args.Channels) && DepthwiseConv3x3F32Avx512.TryRun(args))
                    break;
                bool vnni = Isa == Isa.AvxVnni && System.Runtime.Intrinsics.X86.AvxVnni.IsSupported;
                if (vnni && DepthwiseConvX86PixelPairs.Handles(args.Geometry, args.Channels))
                    DepthwiseConvX86PixelPairs.Run(args);
                else if (vnni && DepthwiseConvX86LanePairs.Handles(args.Geometry, args.Channels))
                    DepthwiseConvX86LanePairs.Run(args);
                else if (vnni && DepthwiseConvX86PairStrips.Handles(args.Geometry, args.Channels))
                    DepthwiseConvX86PairStrips.Run(args);
                else if (vnni && DepthwiseConvX86StridePairs.Handles(args.Geometry, args.Channels))
                    DepthwiseConvX86StridePairs.Run(args);
                else if (vnni && DepthwiseConvX86QuadRows.Handles(args.Geometry, args.Channels))
                    DepthwiseConvX86QuadRows.Run(args);
                else if (DepthwiseConvX86Rows.Handles(args.Geometry, args.Channels))
                    DepthwiseConvX86Rows.Run(args, vnni);
                else
                    DepthwiseConvAvx2.Run(args);
                break;
            default: DepthwiseConvScalar.Run(args); break;
        }
    }

    private static void CheckDepthwise(in WindowGeometry g, int channels, int inputLength, int inputZeroPoint, int zpMin, int zpMax,
        int weightsLength, int biasLength, int scalesLength, QuantizedOutput output, int destinationLength, int rowStart, int rowCount)
    {
        g.Validate();
        if (channels <= 0) throw new ArgumentException($"depthwise conv: channels must be positive, got {channels}");
        if (inputZeroPoint < zpMin || inputZeroPoint > zpMax) throw new ArgumentException($"depthwise conv: input zero point {inputZeroPoint} outside {zpMin}..{zpMax}");
        if (output.Min < zpMin || output.Max > zpMax) throw new ArgumentException($"depthwise conv: output range {output.Min}..{output.Max} does not fit the element type ({zpMin}..{zpMax})");
        KernelArguments.CheckLength("depthwise conv", "input", inputLength, (long)g.InputHeight * g.InputWidth * channels);
        KernelArguments.CheckLength("depthwise conv", "weights", weightsLength, (long)g.KernelHeight * g.KernelWidth * channels);
        if (biasLength != 0) KernelArguments.CheckLength("depthwise conv", "bias", biasLength, channels);
        KernelArguments.CheckLength("depthwise conv", "scales", scalesLength, channels);
        KernelArguments.CheckLength("depthwise conv", "destination", destinationLength, (long)g.OutputHeight * g.OutputWidth * channels);
        KernelArguments.CheckRange("depthwise conv", "output rows", rowStart, rowCount, g.OutputHeight);
    }
}
