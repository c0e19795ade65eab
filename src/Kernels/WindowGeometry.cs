namespace EdgeAgent.Kernels;

/// <summary>
/// The 2-D sliding window of a depthwise convolution or a pooling kernel over one NHWC image:
/// input size, kernel size, stride, dilation and the four paddings. Output size follows ONNX
/// (floor division, or ceiling with <see cref="CeilMode"/> where a last window must still start
/// inside the input or its leading padding).
/// </summary>
public readonly record struct WindowGeometry
{
    public int InputHeight { get; init; }
    public int InputWidth { get; init; }
    public int KernelHeight { get; init; }
    public int KernelWidth { get; init; }
    public int StrideHeight { get; init; }
    public int StrideWidth { get; init; }
    public int DilationHeight { get; init; }
    public int DilationWidth { get; init; }
    public int PadTop { get; init; }
    public int PadLeft { get; init; }
    public int PadBottom { get; init; }
    public int PadRight { get; init; }

    /// <summary>Pooling only: round the output size up (ONNX <c>ceil_mode</c>).</summary>
    public bool CeilMode { get; init; }

    /// <summary>A square kernel with symmetric padding, the common MobileNet case.</summary>
    public WindowGeometry(int inputHeight, int inputWidth, int kernel, int stride = 1, int pad = 0, int dilation = 1)
        : this(inputHeight, inputWidth, kernel, kernel, stride, stride, pad, pad, pad, pad, dilation, dilation)
    {
    }

    public WindowGeometry(int inputHeight, int inputWidth, int kernelHeight, int kernelWidth,
        int strideHeight, int strideWidth, int padTop, int padLeft, int padBottom, int padRight,
        int dilationHeight = 1, int dilationWidth = 1, bool ceilMode = false)
    {
        InputHeight = inputHeight;
        InputWidth = inputWidth;
        KernelHeight = kernelHeight;
        KernelWidth = kernelWidth;
        StrideHeight = strideHeight;
        StrideWidth = strideWidth;
        PadTop = padTop;
        PadLeft = padLeft;
        PadBottom = padBottom;
        PadRight = padRight;
        DilationHeight = dilationHeight;
        DilationWidth = dilationWidth;
        CeilMode = ceilMode;
    }

    public int OutputHeight => OutputSize(InputHeight, KernelHeight, StrideHeight, DilationHeight, PadTop, PadBottom);
    public int OutputWidth => OutputSize(InputWidth, KernelWidth, StrideWidth, DilationWidth, PadLeft, PadRight);

    private int OutputSize(int input, int kernel, int stride, int dilation, int padBegin, int padEnd)
    {
        int span = input + padBegin + padEnd - dilation * (kernel - 1) - 1;
        if (span < 0) return 0;
        int n = (CeilMode ? (span + stride - 1) / stride : span / stride) + 1;
        if (CeilMode && (n - 1) * stride >= input + padBegin) n--;
        return n;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first field that makes no sense.</summary>
    public void Validate()
    {
        static void Positive(int v, string name)
        {
            if (v <= 0) throw new ArgumentException($"window geometry: {name} must be positive, got {v}");
        }
        static void NonNegative(int v, string name)
        {
            if (v < 0) throw new ArgumentException($"window geometry: {name} must not be negative, got {v}");
        }
        Positive(InputHeight, nameof(InputHeight));
        Positive(InputWidth, nameof(InputWidth));
        Positive(KernelHeight, nameof(KernelHeight));
        Positive(KernelWidth, nameof(KernelWidth));
        Positive(StrideHeight, nameof(StrideHeight));
        Positive(StrideWidth, nameof(StrideWidth));
        Positive(DilationHeight, nameof(DilationHeight));
        Positive(DilationWidth, nameof(DilationWidth));
        NonNegative(PadTop, nameof(PadTop));
        NonNegative(PadLeft, nameof(PadLeft));
        NonNegative(PadBottom, nameof(PadBottom));
        NonNegative(PadRight, nameof(PadRight));
        if (OutputHeight <= 0 || OutputWidth <= 0)
            throw new ArgumentException($"window geometry: a {KernelHeight}x{KernelWidth} window (dilation {DilationHeight}x{DilationWidth}) does not fit a padded {InputHeight}x{InputWidth} input");
    }

    /// <summary>
    /// For output row <paramref name="oy"/>: the first input row of its window and the range
    /// [<paramref name="kyBegin"/>, <paramref name="kyEnd"/>) of kernel rows that land inside the input.
    /// </summary>
    internal void RowTaps(int oy, out int iy0, out int kyBegin, out int kyEnd) =>
        Taps(oy, StrideHeight, DilationHeight, PadTop, KernelHeight, InputHeight, out iy0, out kyBegin, out kyEnd);

    /// <summary>Same as <see cref="RowTaps"/> for output column <paramref name="ox"/>.</summary>
    internal void ColumnTaps(int ox, out int ix0, out int kxBegin, out int kxEnd) =>
        Taps(ox, StrideWidth, DilationWidth, PadLeft, KernelWidth, InputWidth, out ix0, out kxBegin, out kxEnd);

    /// <summary>
    /// Whether output columns <paramref name="ox"/> to <paramref name="ox"/> + <paramref name="count"/> − 1 have every
    /// column of their window inside the input: their taps are then the first one's, shifted by a stride each.
    /// </summary>
    internal bool ColumnsInside(int ox, int count)
    {
        int first = ox * StrideWidth - PadLeft, last = (ox + count - 1) * StrideWidth - PadLeft + (KernelWidth - 1) * DilationWidth;
        return first >= 0 && last < InputWidth;
    }

    private static void Taps(int o, int stride, int dilation, int pad, int kernel, int input, out int i0, out int kBegin, out int kEnd)
    {
        i0 = o * stride - pad;
        kBegin = i0 >= 0 ? 0 : (-i0 + dilation - 1) / dilation;
        int last = input - 1 - i0; // largest k*dilation that stays inside
        kEnd = last < 0 ? 0 : Math.Min(kernel, last / dilation + 1);
        if (kEnd < kBegin) kEnd = kBegin;
    }

    /// <summary>
    /// Fills the element offsets of the taps of output pixel (oy, ox) that land inside the input, in (ky, kx)
    /// order, for an NHWC image with <paramref name="channels"/> channels: input offsets, and (when
    /// <paramref name="weightOffsets"/> is not empty) the offsets of the matching [KH][KW][C] weights.
    /// Padded taps are left out. Returns the tap count.
    /// </summary>
    internal int GatherTaps(int oy, int ox, int channels, Span<int> inputOffsets, Span<int> weightOffsets)
    {
        RowTaps(oy, out int iy0, out int kyBegin, out int kyEnd);
        ColumnTaps(ox, out int ix0, out int kxBegin, out int kxEnd);
        bool weights = !weightOffsets.IsEmpty;
        int n = 0;
        for (int ky = kyBegin; ky < kyEnd; ky++)
        {
            int iy = iy0 + ky * DilationHeight;
            for (int kx = kxBegin; kx < kxEnd; kx++)
            {
                inputOffsets[n] = (iy * InputWidth + ix0 + kx * DilationWidth) * channels;
                if (weights) weightOffsets[n] = (ky * KernelWidth + kx) * channels;
                n++;
            }
        }
        return n;
    }

    /// <summary>
    /// Window size counted for <c>count_include_pad</c> average pooling: kernel positions inside the
    /// padded input (all of them except where ceil mode runs past the end padding).
    /// </summary>
    internal int PaddedWindowCount(int oy, int ox)
    {
        static int Count(int o, int stride, int dilation, int pad, int padEnd, int kernel, int input)
        {
            int i0 = o * stride - pad;
            int n = 0;
            for (int k = 0; k < kernel; k++)
            {
                int i = i0 + k * dilation;
                if (i >= -pad && i < input + padEnd) n++;
            }
            return n;
        }
        return Count(oy, StrideHeight, DilationHeight, PadTop, PadBottom, KernelHeight, InputHeight) *
               Count(ox, StrideWidth, DilationWidth, PadLeft, PadRight, KernelWidth, InputWidth);
    }
}
