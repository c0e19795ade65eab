namespace EdgeAgent.Kernels;

/// <summary>One call of a float depthwise convolution, shared by every ISA's kernel.</summary>
internal readonly ref struct DepthwiseFloatArgs
{
    public readonly WindowGeometry Geometry;
    public readonly int Channels;
    public readonly ReadOnlySpan<float> Input;
    public readonly ReadOnlySpan<float> Weights;
    public readonly ReadOnlySpan<float> Bias;
    public readonly FloatActivation Activation;
    public readonly Span<float> Destination;
    public readonly int RowStart;
    public readonly int RowEnd;

    public DepthwiseFloatArgs(in WindowGeometry geometry, int channels, ReadOnlySpan<float> input, ReadOnlySpan<float> weights,
        ReadOnlySpan<float> bias, FloatActivation activation, Span<float> destination, int rowStart, int rowEnd)
    {
        Geometry = geometry;
        Channels = channels;
        Input = input;
        Weights = weights;
        Bias = bias;
        Activation = activation;
        Destination = destination;
        RowStart = rowStart;
        RowEnd = rowEnd;
    }
}
