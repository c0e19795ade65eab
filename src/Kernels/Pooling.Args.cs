namespace EdgeAgent.Kernels;

/// <summary>One call of an int8 max or average pooling over an NHWC image, shared by every ISA's kernel.</summary>
internal readonly ref struct PoolArgs<T> where T : unmanaged
{
    public readonly WindowGeometry Geometry;
    public readonly int Channels;
    public readonly ReadOnlySpan<T> Input;
    public readonly Span<T> Destination;
    public readonly int RowStart;
    public readonly int RowEnd;
    // Average pooling only.
    public readonly int InputZeroPoint;
    public readonly float InputScale;
    public readonly float OutputScale;
    public readonly QuantizedOutput Output;
    public readonly bool CountIncludePad;

    public PoolArgs(in WindowGeometry geometry, int channels, ReadOnlySpan<T> input, Span<T> destination, int rowStart, int rowEnd,
        int inputZeroPoint = 0, float inputScale = 1f, float outputScale = 1f, QuantizedOutput output = default, bool countIncludePad = false)
    {
        Geometry = geometry;
        Channels = channels;
        Input = input;
        Destination = destination;
        RowStart = rowStart;
        RowEnd = rowEnd;
        InputZeroPoint = inputZeroPoint;
        InputScale = inputScale;
        OutputScale = outputScale;
        Output = output;
        CountIncludePad = countIncludePad;
    }

    /// <summary>Input offsets (elements) of the window taps of output pixel (oy, ox) inside the input; returns their count.</summary>
    public int GatherTaps(int oy, int ox, Span<int> inputOffsets) => Geometry.GatherTaps(oy, ox, Channels, inputOffsets, default);

    /// <summary>
    /// The requantization scale of an average over <paramref name="count"/> values: sx / (sy * count), computed
    /// here once for every path so all of them multiply by the same float.
    /// </summary>
    public float AverageScale(int count) => AveragePooling.Scale(InputScale, OutputScale, count);

    /// <summary>The divisor of output pixel (oy, ox) given its number of taps inside the input.</summary>
    public int Divisor(int oy, int ox, int validTaps) => CountIncludePad ? Geometry.PaddedWindowCount(oy, ox) : validTaps;
}

/// <summary>Shared arithmetic of the average pools.</summary>
internal static class AveragePooling
{
    public static float Scale(float inputScale, float outputScale, int count) =>
        (float)((double)inputScale / ((double)outputScale * count));
}
