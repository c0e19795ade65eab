namespace EdgeAgent.Runtime.Training;

/// <summary>
/// Geometry of a 2-D convolution or pooling window and the im2col / col2im transforms that turn a
/// convolution into one matrix product per group. Column row r = (c·kh + ky)·kw + kx, column = oy·ow + ox.
/// </summary>
internal readonly record struct ConvGeometry(
    int Channels, int Height, int Width,
    int KernelH, int KernelW, int StrideH, int StrideW, int PadH, int PadW, int DilationH, int DilationW)
{
    public int OutH => (Height + 2 * PadH - DilationH * (KernelH - 1) - 1) / StrideH + 1;
    public int OutW => (Width + 2 * PadW - DilationW * (KernelW - 1) - 1) / StrideW + 1;
    public int ColumnRows => Channels * KernelH * KernelW;
    public int ColumnCols => OutH * OutW;

    /// <summary>True when the column matrix is the input itself (1×1, stride 1, no padding).</summary>
    public bool IsPointwise => KernelH == 1 && KernelW == 1 && StrideH == 1 && StrideW == 1 && PadH == 0 && PadW == 0;

    public void Im2Col(ReadOnlySpan<float> image, Span<float> columns)
    {
        int oh = OutH, ow = OutW, cols = oh * ow;
        for (int c = 0; c < Channels; c++)
        {
            var plane = image.Slice(c * Height * Width, Height * Width);
            for (int ky = 0; ky < KernelH; ky++)
            {
                for (int kx = 0; kx < KernelW; kx++)
                {
                    var row = columns.Slice(((c * KernelH + ky) * KernelW + kx) * cols, cols);
                    for (int oy = 0; oy < oh; oy++)
                    {
                        int iy = oy * StrideH - PadH + ky * DilationH;
                        var dst = row.Slice(oy * ow, ow);
                        if ((uint)iy >= (uint)Height) { dst.Clear(); continue; }
                        var src = plane.Slice(iy * Width, Width);
                        int ix = -PadW + kx * DilationW;
                        if (StrideW == 1 && ix >= 0 && ix + ow <= Width)
                        {
                            src.Slice(ix, ow).CopyTo(dst);
                            continue;
                        }
                        for (int ox = 0; ox < ow; ox++, ix += StrideW)
                            dst[ox] = (uint)ix < (uint)Width ? src[ix] : 0f;
                    }
                }
            }
        }
    }

    /// <summary>Adds the column gradients back onto the image gradient (the adjoint of Im2Col).</summary>
    public void Col2ImAdd(ReadOnlySpan<float> columns, Span<float> image)
    {
        int oh = OutH, ow = OutW, cols = oh * ow;
        for (int c = 0; c < Channels; c++)
        {
            var plane = image.Slice(c * Height * Width, Height * Width);
            for (int ky = 0; ky < KernelH; ky++)
            {
                for (int kx = 0; kx < KernelW; kx++)
                {
                    var row = columns.Slice(((c * KernelH + ky) * KernelW + kx) * cols, cols);
                    for (int oy = 0; oy < oh; oy++)
                    {
                        int iy = oy * StrideH - PadH + ky * DilationH;
                        if ((uint)iy >= (uint)Height) continue;
                        var src = row.Slice(oy * ow, ow);
                        var dst = plane.Slice(iy * Width, Width);
                        int ix = -PadW + kx * DilationW;
                        for (int ox = 0; ox < ow; ox++, ix += StrideW)
                            if ((uint)ix < (uint)Width) dst[ix] += src[ox];
                    }
                }
            }
        }
    }
}
