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

/// <summary>The channels the vector forms leave over (past the last block of 16), lane by lane as the scalar form.</summary>
internal static unsafe class DepthwiseFloatRemainder
{
    /// <summary>Channels [<paramref name="c"/>, <paramref name="channels"/>) of one output pixel whose <paramref name="n"/> taps are gathered.</summary>
    public static void Run(float* input, float* weights, float* bias, float* dst, int* inOff, int* wOff, int n, int c, int channels,
                           bool clamp, float lo, float hi)
    {
        for (; c < channels; c++)
        {
            float acc = bias != null ? bias[c] : 0f;
            for (int t = 0; t < n; t++) acc = MathF.FusedMultiplyAdd(input[inOff[t] + c], weights[wOff[t] + c], acc);
            dst[c] = clamp ? FloatMath.Clamp(acc, lo, hi) : acc;
        }
    }
}
