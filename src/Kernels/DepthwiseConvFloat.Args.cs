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

/// <summary>What one ISA's float depthwise form gives <see cref="DepthwiseFloatDriver"/>.</summary>
internal unsafe interface IDepthwiseFloatBlocks
{
    /// <summary>16-channel blocks of one output pixel whose <paramref name="n"/> taps are gathered; returns the channels done.</summary>
    static abstract int Blocks16(float* input, float* weights, float* bias, float* dst, int* inOff, int* wOff, int n, int channels,
                                 bool clamp, float lo, float hi);

    /// <summary>16-channel blocks of four output pixels <paramref name="step"/> floats apart; returns the channels done.</summary>
    static abstract int Four16(float* input, int step, float* weights, float* bias, float* dst, int* inOff, int* wOff, int n, int channels,
                               bool clamp, float lo, float hi);
}

/// <summary>
/// The loop every vector form shares: taps gathered per output pixel; inside the image four neighbouring pixels go
/// together (their taps are the first one's, a stride apart), so each weight load feeds four FMAs; the channels past
/// the last block of 16 go lane by lane.
/// </summary>
internal static unsafe class DepthwiseFloatDriver
{
    public static void Run<TBlocks>(in DepthwiseFloatArgs a) where TBlocks : IDepthwiseFloatBlocks
    {
        ref readonly var g = ref a.Geometry;
        int channels = a.Channels, outWidth = g.OutputWidth, taps = g.KernelHeight * g.KernelWidth;
        Span<int> inOffsets = taps <= 128 ? stackalloc int[taps] : new int[taps];
        Span<int> wOffsets = taps <= 128 ? stackalloc int[taps] : new int[taps];
        bool clamp = !a.Activation.IsNone;
        float lo = a.Activation.Min, hi = a.Activation.Max;
        fixed (float* input = a.Input)
        fixed (float* weights = a.Weights)
        fixed (float* bias = a.Bias)
        fixed (float* output = a.Destination)
        fixed (int* inOff = inOffsets)
        fixed (int* wOff = wOffsets)
        {
            float* b = a.Bias.IsEmpty ? null : bias;
            int step = g.StrideWidth * channels;
            for (int oy = a.RowStart; oy < a.RowEnd; oy++)
            {
                int ox = 0;
                while (ox < outWidth)
                {
                    int n = g.GatherTaps(oy, ox, channels, inOffsets, wOffsets);
                    float* dst = output + (oy * outWidth + ox) * channels;
                    if (channels >= 16 && ox + 4 <= outWidth && g.ColumnsInside(ox, 4))
                    {
                        int c4 = TBlocks.Four16(input, step, weights, b, dst, inOff, wOff, n, channels, clamp, lo, hi);
                        for (int p = 0; p < 4; p++)
                            DepthwiseFloatRemainder.Run(input + p * step, weights, b, dst + p * channels, inOff, wOff, n, c4, channels, clamp, lo, hi);
                        ox += 4;
                        continue;
                    }
                    int c = TBlocks.Blocks16(input, weights, b, dst, inOff, wOff, n, channels, clamp, lo, hi);
                    DepthwiseFloatRemainder.Run(input, weights, b, dst, inOff, wOff, n, c, channels, clamp, lo, hi);
                    ox++;
                }
            }
        }
    }
}
