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

    public DepthwiseArgs(in WindowGeometry geometry, int channels, ReadOnlySpan<T> input, int inputZeroPoint,
        ReadOnlySpan<sbyte> weights, ReadOnlySpan<int> bias, ReadOnlySpan<float> scales, QuantizedOutput output,
        Span<T> destination, int rowStart, int rowEnd)
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
    }

    /// <summary>
    /// Fills the input and weight offsets (in elements) of the taps of output pixel (oy, ox) that land inside
    /// the input; padded taps are left out since they contribute (zp - zp) * w = 0. Returns the tap count.
    /// </summary>
    public int GatherTaps(int oy, int ox, Span<int> inputOffsets, Span<int> weightOffsets)
    {
        ref readonly var g = ref Geometry;
        g.RowTaps(oy, out int iy0, out int kyBegin, out int kyEnd);
        g.ColumnTaps(ox, out int ix0, out int kxBegin, out int kxEnd);
        int n = 0;
        for (int ky = kyBegin; ky < kyEnd; ky++)
        {
            int iy = iy0 + ky * g.DilationHeight;
            for (int kx = kxBegin; kx < kxEnd; kx++)
            {
                int ix = ix0 + kx * g.DilationWidth;
                inputOffsets[n] = (iy * g.InputWidth + ix) * Channels;
                weightOffsets[n] = (ky * g.KernelWidth + kx) * Channels;
                n++;
            }
        }
        return n;
    }
}
