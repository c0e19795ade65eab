namespace EdgeAgent.Kernels;

/// <summary>
/// Quantized 2-D convolution on QGEMM (NHWC, see <see cref="Conv2DShape"/>): weights packed once per group;
/// a pointwise (1x1, stride 1, unpadded) convolution multiplies the input directly, every other one first
/// gathers each output pixel's receptive field into a caller-provided scratch row (im2col), padding with the
/// input zero point, so padded taps contribute exactly zero. Groups are separate GEMMs writing their
/// channel range of the output. Depthwise convolutions have their own direct kernels; this class runs them
/// correctly but as N=1 GEMMs.
/// </summary>
public sealed class QConv2D
{
    private readonly PackedWeights[] _groups;

    /// <summary>The convolution's geometry.</summary>
    public Conv2DShape Shape { get; }

    /// <summary>The kernel path the weights were packed for.</summary>
    public KernelTable Table { get; }

    /// <summary>Bytes of scratch <see cref="Run"/> needs (0 for pointwise convolutions).</summary>
    public int ScratchBytes { get; }

    /// <summary>Packs <paramref name="weights"/> (s8, [OutChannels][InChannels/Groups][KernelHeight][KernelWidth]).</summary>
    public QConv2D(KernelTable table, Conv2DShape shape, ReadOnlySpan<sbyte> weights)
    {
        ArgumentNullException.ThrowIfNull(table);
        shape.Validate();
        int kernelArea = shape.KernelHeight * shape.KernelWidth, cg = shape.GroupInChannels, ng = shape.GroupOutChannels, k = shape.GemmK;
        if (weights.Length != (long)shape.OutChannels * cg * kernelArea)
            ThrowHelper.Argument(nameof(weights), $"convolution weights hold {weights.Length} values, [{shape.OutChannels}][{cg}][{shape.KernelHeight}][{shape.KernelWidth}] needs {(long)shape.OutChannels * cg * kernelArea}");
        Table = table;
        Shape = shape;
        ScratchBytes = shape.IsPointwise ? 0 : checked(shape.OutHeight * shape.OutWidth * k);
        _groups = new PackedWeights[shape.Groups];
        // Reorder OIHW to one row per output channel in im2col order (ky, kx, c): channels innermost, as NHWC reads them.
        var rows = new sbyte[ng * k];
        for (int g = 0; g < shape.Groups; g++)
        {
            for (int n = 0; n < ng; n++)
                for (int c = 0; c < cg; c++)
                    for (int tap = 0; tap < kernelArea; tap++)
                        rows[n * k + tap * cg + c] = weights[((g * ng + n) * cg + c) * kernelArea + tap];
            _groups[g] = PackedWeights.Pack(table, rows, k, ng, k, transposed: true);
        }
    }

    /// <summary>
    /// Convolves <paramref name="input"/> (rows = Batch x Height x Width pixels, stride = channels per pixel,
    /// at least InChannels) into <paramref name="output"/> (rows = Batch x OutHeight x OutWidth, columns =
    /// OutChannels). <paramref name="bias"/> and <paramref name="weightZeroPoints"/> are per output channel
    /// (or one value for the zero points), as for <see cref="QGemm.Run"/>.
    /// </summary>
    public void Run(in QGemmInput input, in QGemmOutput output, Span<byte> scratch,
        ReadOnlySpan<int> bias = default, ReadOnlySpan<int> weightZeroPoints = default, WorkerPool? pool = null)
    {
        var s = Shape;
        if (input.Rows != s.Batch * s.Height * s.Width || input.Stride < s.InChannels)
            ThrowHelper.Argument(nameof(input), $"convolution input has {input.Rows} pixels of stride {input.Stride}; shape needs {s.Batch}x{s.Height}x{s.Width} pixels of at least {s.InChannels} channels");
        int outPixels = s.OutHeight * s.OutWidth;
        if (output.Stride < s.OutChannels)
            ThrowHelper.Argument(nameof(output), $"convolution output stride {output.Stride} is below {s.OutChannels} output channels");
        if (scratch.Length < ScratchBytes)
            ThrowHelper.Argument(nameof(scratch), $"convolution scratch has {scratch.Length} bytes, needs {ScratchBytes}");
        if (!bias.IsEmpty && bias.Length != s.OutChannels)
            ThrowHelper.Argument(nameof(bias), $"convolution bias has {bias.Length} values, expected {s.OutChannels}");
        if (weightZeroPoints.Length is not (0 or 1) && weightZeroPoints.Length != s.OutChannels)
            ThrowHelper.Argument(nameof(weightZeroPoints), $"convolution weight zero points: {weightZeroPoints.Length} values, expected 0, 1 or {s.OutChannels}");

        int cg = s.GroupInChannels, ng = s.GroupOutChannels, k = s.GemmK;
        for (int g = 0; g < s.Groups; g++)
        {
            var groupOut = output.FromColumn(g * ng, ng);
            var groupBias = bias.IsEmpty ? bias : bias.Slice(g * ng, ng);
            var groupZb = weightZeroPoints.Length > 1 ? weightZeroPoints.Slice(g * ng, ng) : weightZeroPoints;
            if (s.IsPointwise)
            {
                var a = input.With(input.Data.Slice(g * cg), input.Rows, input.Stride);
                QGemm.Run(a, _groups[g], groupOut, groupBias, groupZb, pool);
                continue;
            }
            for (int b = 0; b < s.Batch; b++)
            {
                Im2Col(input, b, g, scratch);
                var a = input.With(scratch, outPixels, k);
                QGemm.Run(a, _groups[g], groupOut.FromRow(b * outPixels), groupBias, groupZb, pool);
            }
        }
    }

    /// <summary>One row per output pixel: for each tap (ky, kx), the group's channels of the input pixel it hits.</summary>
    private void Im2Col(in QGemmInput input, int batch, int group, Span<byte> scratch)
    {
        var s = Shape;
        int cg = s.GroupInChannels, k = s.GemmK;
        byte pad = (byte)input.ZeroPoint;
        var data = input.Data;
        int row = 0;
        for (int oy = 0; oy < s.OutHeight; oy++)
        {
            for (int ox = 0; ox < s.OutWidth; ox++, row++)
            {
                var dst = scratch.Slice(row * k, k);
                int at = 0;
                for (int ky = 0; ky < s.KernelHeight; ky++)
                {
                    int iy = oy * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                    for (int kx = 0; kx < s.KernelWidth; kx++, at += cg)
                    {
                        int ix = ox * s.StrideWidth - s.PadLeft + kx * s.DilationWidth;
                        bool inside = (uint)iy < (uint)s.Height && (uint)ix < (uint)s.Width;
                        if (cg <= 8)
                        {
                            // A few channels (a stem): a call to CopyTo or Fill per tap costs more than the bytes.
                            int from = inside ? ((batch * s.Height + iy) * s.Width + ix) * input.Stride + group * cg : 0;
                            for (int c = 0; c < cg; c++) dst[at + c] = inside ? data[from + c] : pad;
                        }
                        else if (inside)
                            data.Slice(((batch * s.Height + iy) * s.Width + ix) * input.Stride + group * cg, cg).CopyTo(dst.Slice(at, cg));
                        else
                            dst.Slice(at, cg).Fill(pad);
                    }
                }
            }
        }
    }
}
