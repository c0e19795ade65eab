namespace EdgeAgent.Kernels;

/// <summary>
/// The geometry of a 2-D convolution over NHWC tensors: input [Batch][Height][Width][InChannels], output
/// [Batch][OutHeight][OutWidth][OutChannels], weights as ONNX stores them, [OutChannels][InChannels/Groups]
/// [KernelHeight][KernelWidth]. NHWC is the layout inside EdgeAgent (channels contiguous: a pixel's
/// receptive field is a few contiguous runs); the runtime converts ONNX's NCHW at the graph edges.
/// </summary>
public readonly record struct Conv2DShape(
    int Batch, int Height, int Width, int InChannels, int OutChannels,
    int KernelHeight, int KernelWidth,
    int StrideHeight = 1, int StrideWidth = 1,
    int PadTop = 0, int PadLeft = 0, int PadBottom = 0, int PadRight = 0,
    int DilationHeight = 1, int DilationWidth = 1, int Groups = 1)
{
    /// <summary>Output rows: (H + pads - dilated kernel) / stride + 1.</summary>
    public int OutHeight => (Height + PadTop + PadBottom - DilationHeight * (KernelHeight - 1) - 1) / StrideHeight + 1;

    /// <summary>Output columns.</summary>
    public int OutWidth => (Width + PadLeft + PadRight - DilationWidth * (KernelWidth - 1) - 1) / StrideWidth + 1;

    /// <summary>Input channels per group.</summary>
    public int GroupInChannels => InChannels / Groups;

    /// <summary>Output channels per group (the N of each group's GEMM).</summary>
    public int GroupOutChannels => OutChannels / Groups;

    /// <summary>The depth of each group's GEMM: KernelHeight x KernelWidth x GroupInChannels.</summary>
    public int GemmK => KernelHeight * KernelWidth * GroupInChannels;

    /// <summary>A 1x1 kernel with stride 1 and no padding reads the input as the GEMM's A directly.</summary>
    public bool IsPointwise => KernelHeight == 1 && KernelWidth == 1 && StrideHeight == 1 && StrideWidth == 1
        && PadTop == 0 && PadLeft == 0 && PadBottom == 0 && PadRight == 0;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first field that is out of range.</summary>
    public void Validate()
    {
        static void Positive(int v, string name) { if (v <= 0) ThrowHelper.Argument(name, $"convolution {name} must be positive, got {v}"); }
        Positive(Batch, nameof(Batch)); Positive(Height, nameof(Height)); Positive(Width, nameof(Width));
        Positive(InChannels, nameof(InChannels)); Positive(OutChannels, nameof(OutChannels));
        Positive(KernelHeight, nameof(KernelHeight)); Positive(KernelWidth, nameof(KernelWidth));
        Positive(StrideHeight, nameof(StrideHeight)); Positive(StrideWidth, nameof(StrideWidth));
        Positive(DilationHeight, nameof(DilationHeight)); Positive(DilationWidth, nameof(DilationWidth)); Positive(Groups, nameof(Groups));
        if (PadTop < 0 || PadLeft < 0 || PadBottom < 0 || PadRight < 0)
            ThrowHelper.Argument("Pads", $"convolution pads must not be negative, got [{PadTop}, {PadLeft}, {PadBottom}, {PadRight}]");
        if (InChannels % Groups != 0 || OutChannels % Groups != 0)
            ThrowHelper.Argument(nameof(Groups), $"{Groups} groups do not divide {InChannels} input and {OutChannels} output channels");
        if (OutHeight <= 0 || OutWidth <= 0)
            ThrowHelper.Argument(nameof(KernelHeight), $"a {KernelHeight}x{KernelWidth} kernel (dilation {DilationHeight}x{DilationWidth}) does not fit a padded {Height}x{Width} input");
    }
}
