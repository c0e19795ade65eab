namespace EdgeAgent.Kernels;

/// <summary>One call of an int8 depthwise convolution, shared by every ISA's kernel.</summary>
internal readonly ref struct DepthwiseArgs<T> where T : unmanaged
{
    public readonly WindowGeometry Geometry;
    public readonly int Channels;
    public readonly ReadOnlySpan<T> Input;
    public readonly int InputZeroPoint;
    public readonly ReadOnlySpan<sbyte> Weights;
    public readonly ReadOnlySpan<int> Bias;
    public readonly ReadOnlySpan<float> Scales;
    public readonly QuantizedOutput Output;
    public readonly Span<T> Destination;
    public readonly int RowStart;
    public readonly int RowEnd;
    /// <summary>The weights widened to int16 once at load (<see cref="DepthwiseWeights"/>, NEON path), or empty.</summary>
    public readonly ReadOnlySpan<short> WidenedWeights;
    /// <summary>The weights prepared at load, where the x86 kernels keep their prepared layout, or null for a span call.</summary>
    public readonly DepthwiseWeights? Packed;

    public DepthwiseArgs(in WindowGeometry geometry, int channels, ReadOnlySpan<T> input, int inputZeroPoint,
        ReadOnlySpan<sbyte> weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> scales, QuantizedOutput output,
        Span<T> destination, int rowStart, int rowEnd, ReadOnlySpan<short> widenedWeights = default, DepthwiseWeights? packed = null)
    {
        Geometry = geometry;
        Channels = channels;
        Input = input;
        InputZeroPoint = inputZeroPoint;
        Weights = weights;
        Bias = bias;
        Scales = scales;
        Output = output;
        Destination = destination;
        RowStart = rowStart;
        RowEnd = rowEnd;
        WidenedWeights = widenedWeights;
        Packed = packed;
    }

    /// <summary>Input and weight offsets of the taps of output pixel (oy, ox) inside the input; returns their count.</summary>
    public int GatherTaps(int oy, int ox, Span<int> inputOffsets, Span<int> weightOffsets) =>
        Geometry.GatherTaps(oy, ox, Channels, inputOffsets, weightOffsets);
}
