namespace EdgeAgent.Kernels;

/// <summary>
/// Direct int8 convolution for few input channels (a network's stem: RGB or a 3-axis sensor, 3x3 stride 2 or a
/// 1-D kernel of 5): no im2col buffer and no GEMM. A kernel row's taps (KernelWidth x InChannels, at most 16)
/// are contiguous in NHWC, so the vector path loads each row of a receptive field with one 16-byte load, widens it
/// to int16 minus the input zero point, and multiplies tap pairs against int16 weights prepacked per 8 output
/// channels (VPMADDWD: exact, |x - zp| · |w| ≤ 255 · 128 per product). Symmetric weights, groups of 1, u8 in and
/// out or s8 in and out; bias, per-channel requantization (<see cref="Requantization"/>) and the fused clamp in
/// the epilogue. Results are the same bits on every path; <see cref="QConvDirectScalar"/> is the specification.
/// On <c>avx512</c>, output channels in multiples of 16 go eight pixels x 16 channels on 512-bit VPMADDWD with tap pairs
/// read from int16 row slots (<see cref="QConvDirect8x16PairsAvx512"/>). AVX-VNNI and ARM dot product keep the taps as bytes and multiply four at a time (<see cref="QConvDirectAvxVnni"/>,
/// <see cref="QConvDirectNeonDot"/>); ARMv8.0 multiplies int16 weights by each tap's lane (<see cref="QConvDirectNeon"/>).
/// </summary>
public sealed class QConvDirect
{
    /// <summary>Largest KernelWidth x InChannels: one kernel row must fit one 16-byte load.</summary>
    public const int MaxRowTaps = 16;

    /// <summary>The convolution's geometry (NHWC, see <see cref="Conv2DShape"/>).</summary>
    public Conv2DShape Shape { get; }

    /// <summary>The kernel path the weights were packed for.</summary>
    public KernelTable Table { get; }

    /// <summary>Weights as given, [OutChannels][InChannels][KernelHeight][KernelWidth] (the scalar path reads these).</summary>
    internal sbyte[] Weights { get; }

    /// <summary>
    /// int16 weights for the vector path: [KernelHeight][RowPairs][ChannelBlocks] vectors of 8 channels x 2 taps
    /// (tap pairs of a kernel row in (kx, c) order, zero past the row's last tap and past the last channel).
    /// </summary>
    internal short[] PackedPairs { get; }

    /// <summary>Tap pairs per kernel row: ceil(KernelWidth x InChannels / 2).</summary>
    internal int RowPairs { get; }

    /// <summary>
    /// s8 weights for the AVX-VNNI path: [KernelHeight][RowQuads][ChannelBlocks] vectors of 8 channels x 4 taps
    /// (zero past the row's last tap and past the last channel).
    /// </summary>
    internal sbyte[] PackedQuads { get; }

    /// <summary>
    /// int16 weights for the ARMv8.0 NEON path (empty on other paths): [KernelHeight][KernelWidth x InChannels][ChannelBlocks x 8],
    /// one vector of output channels per tap (zero past the last channel).
    /// </summary>
    internal short[] PackedTaps { get; }

    /// <summary>Tap quads per kernel row: ceil(KernelWidth x InChannels / 4).</summary>
    internal int RowQuads { get; }

    /// <summary>
    /// s8 weights for <see cref="QConvDirect8x16FieldAvxVnni"/> (empty when it cannot run): [FieldQuads][pairs of ChannelBlocks]
    /// vectors of 8 channels x 4 taps: the whole quads of each kernel row, then the taps left over past them in (ky, tap)
    /// order with no gaps (<see cref="QConvDirect8x16FieldAvxVnni.TapSlot"/>).
    /// </summary>
    internal sbyte[] PackedFieldQuads { get; } = [];

    /// <summary>Tap quads of a whole receptive field for <see cref="PackedFieldQuads"/>, or 0 when that path cannot run.</summary>
    internal int FieldQuads { get; }

    /// <summary>
    /// int16 weight pairs for <see cref="QConvDirect8x16PairsAvx512"/> (empty when it cannot run), pinned:
    /// [OutChannels / 16][pairs][16 channels x 2] from <see cref="PackedPairs512Start"/> (64-byte aligned).
    /// </summary>
    internal short[] PackedPairs512 { get; } = [];

    /// <summary>Where the 64-byte aligned <see cref="PackedPairs512"/> begin.</summary>
    internal int PackedPairs512Start { get; }

    /// <summary>Per tap pair of <see cref="PackedPairs512"/>, its first value's offset from a pixel's first row-slot value.</summary>
    internal int[] PairOffsets { get; } = [];

    /// <summary>Per output channel (padded to the blocks), the sum of its weights: the zero-point correction of the VNNI path.</summary>
    internal int[] ChannelSums { get; }

    /// <summary>Per output channel, the sum of its weights' magnitudes (the compacted-field path's accumulator bound).</summary>
    internal int[] ChannelAbsSums { get; }

    /// <summary>Groups of 8 output channels.</summary>
    internal int ChannelBlocks { get; }

    /// <summary>Most output channels (the per-channel epilogue constants live on the stack).</summary>
    public const int MaxOutChannels = 256;

    /// <summary>
    /// Whether <see cref="QConvDirect"/> can run <paramref name="shape"/>: one group, a kernel row of at most 16 taps,
    /// at most 16 kernel rows and <see cref="MaxOutChannels"/> output channels.
    /// </summary>
    public static bool Supports(in Conv2DShape shape) =>
        shape.Groups == 1 && shape.KernelWidth * shape.InChannels <= MaxRowTaps && shape.KernelHeight <= 16 && shape.OutChannels <= MaxOutChannels;

    /// <summary>Whether <paramref name="table"/> has a vector path for this kernel (elsewhere im2col + QGEMM is faster).</summary>
    public static bool IsVectorized(KernelTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        return SimdPaths.For(table.Isa) is SimdPath.Avx2 or SimdPath.Avx512 or SimdPath.Neon;
    }

    /// <summary>Packs <paramref name="weights"/> (s8, symmetric, [OutChannels][InChannels][KernelHeight][KernelWidth]).</summary>
    public QConvDirect(KernelTable table, Conv2DShape shape, ReadOnlySpan<sbyte> weights)
    {
        ArgumentNullException.ThrowIfNull(table);
        shape.Validate();
        if (!Supports(shape))
            ThrowHelper.Argument(nameof(shape), $"direct convolution needs one group, KernelWidth x InChannels <= {MaxRowTaps}, KernelHeight <= 16 and OutChannels <= {MaxOutChannels}; got {shape}");
        int cin = shape.InChannels, kh = shape.KernelHeight, kw = shape.KernelWidth, cout = shape.OutChannels;
        if (weights.Length != (long)cout * cin * kh * kw)
            ThrowHelper.Argument(nameof(weights), $"convolution weights hold {weights.Length} values, [{cout}][{cin}][{kh}][{kw}] needs {(long)cout * cin * kh * kw}");
        Table = table;
        Shape = shape;
        Weights = weights.ToArray();
        RowPairs = (kw * cin + 1) / 2;
        ChannelBlocks = (cout + 7) / 8;
        PackedPairs = new short[kh * RowPairs * ChannelBlocks * 16];
        for (int ky = 0; ky < kh; ky++)
            for (int pair = 0; pair < RowPairs; pair++)
                for (int block = 0; block < ChannelBlocks; block++)
                    for (int j = 0; j < 8; j++)
                    {
                        int o = block * 8 + j;
                        if (o >= cout) continue;
                        int at = ((ky * RowPairs + pair) * ChannelBlocks + block) * 16 + 2 * j;
                        for (int half = 0; half < 2; half++)
                        {
                            int tap = 2 * pair + half; // (kx, c) with c innermost, as NHWC holds a row
                            if (tap >= kw * cin) continue;
                            int kx = tap / cin, c = tap % cin;
                            PackedPairs[at + half] = weights[((o * cin + c) * kh + ky) * kw + kx];
                        }
                    }
        int padded = ChannelBlocks * 8, rowTaps = kw * cin;
        PackedTaps = SimdPaths.For(table.Isa) == SimdPath.Neon && !UsesDot(table) ? new short[kh * rowTaps * padded] : [];
        if (PackedTaps.Length != 0)
            for (int o = 0; o < cout; o++)
                for (int ky = 0; ky < kh; ky++)
                    for (int tap = 0; tap < rowTaps; tap++)
                        PackedTaps[(ky * rowTaps + tap) * padded + o] = weights[((o * cin + tap % cin) * kh + ky) * kw + tap / cin];
        RowQuads = (kw * cin + 3) / 4;
        PackedQuads = new sbyte[kh * RowQuads * ChannelBlocks * 32];
        ChannelSums = new int[ChannelBlocks * 8];
        ChannelAbsSums = new int[ChannelBlocks * 8];
        for (int o = 0; o < cout; o++)
            for (int ky = 0; ky < kh; ky++)
                for (int tap = 0; tap < kw * cin; tap++)
                {
                    int kx = tap / cin, c = tap % cin, quad = tap / 4;
                    sbyte v = weights[((o * cin + c) * kh + ky) * kw + kx];
                    PackedQuads[((ky * RowQuads + quad) * ChannelBlocks + o / 8) * 32 + (o % 8) * 4 + tap % 4] = v;
                    ChannelSums[o] += v;
                    ChannelAbsSums[o] += Math.Abs((int)v);
                }
        if (System.Runtime.Intrinsics.X86.X86Base.IsSupported && QConvDirect8x16PairsAvx512.Handles(table.Isa, shape))
        {
            PackedPairs512 = QConvDirect8x16PairsAvx512.Pack(shape, weights, out int start, out int[] offsets);
            PackedPairs512Start = start;
            PairOffsets = offsets;
        }
        if (System.Runtime.Intrinsics.X86.X86Base.IsSupported && table.Isa == Isa.AvxVnni && QConvDirect8x16FieldAvxVnni.Supports(shape))
        {
            FieldQuads = kh * QConvDirect8x16FieldAvxVnni.RowQuads(shape) + QConvDirect8x16FieldAvxVnni.LeftoverQuads(shape);
            int pairedBlocks = (ChannelBlocks + 1) / 2 * 2;
            PackedFieldQuads = new sbyte[FieldQuads * pairedBlocks * 32];
            for (int o = 0; o < cout; o++)
                for (int ky = 0; ky < kh; ky++)
                    for (int tap = 0; tap < kw * cin; tap++)
                    {
                        int kx = tap / cin, c = tap % cin;
                        var (quad, at) = QConvDirect8x16FieldAvxVnni.TapSlot(shape, ky, tap);
                        PackedFieldQuads[(quad * pairedBlocks + o / 8) * 32 + (o % 8) * 4 + at] = weights[((o * cin + c) * kh + ky) * kw + kx];
                    }
        }
    }

    /// <summary>
    /// Convolves output rows [<paramref name="rowStart"/>, <paramref name="rowStart"/> + <paramref name="rowCount"/>) of all
    /// Batch x OutHeight rows: <paramref name="input"/> is [Batch][Height][Width][InChannels] u8 (padding reads
    /// <paramref name="inputZeroPoint"/>), <paramref name="destination"/> [Batch][OutHeight][OutWidth][OutChannels].
    /// <paramref name="bias"/> is empty or one int32 per output channel; <paramref name="scales"/> one or one per channel
    /// (input scale x weight scale / output scale).
    /// </summary>
    public void Run(ReadOnlySpan<byte> input, int inputZeroPoint, ReadOnlySpan<int> bias, ReadOnlySpan<float> scales,
        QuantizedOutput output, Span<byte> destination, int rowStart, int rowCount)
    {
        Check(input.Length, inputZeroPoint, 0, 255, bias.Length, scales.Length, output, destination.Length, rowStart, rowCount);
        Dispatch(new QConvDirectArgs<byte>(this, input, inputZeroPoint, bias, scales, output, destination, rowStart, rowStart + rowCount));
    }

    /// <summary>As the u8 overload, for s8 input and output.</summary>
    public void Run(ReadOnlySpan<sbyte> input, int inputZeroPoint, ReadOnlySpan<int> bias, ReadOnlySpan<float> scales,
        QuantizedOutput output, Span<sbyte> destination, int rowStart, int rowCount)
    {
        Check(input.Length, inputZeroPoint, -128, 127, bias.Length, scales.Length, output, destination.Length, rowStart, rowCount);
        Dispatch(new QConvDirectArgs<sbyte>(this, input, inputZeroPoint, bias, scales, output, destination, rowStart, rowStart + rowCount));
    }

    private static bool UsesDot(KernelTable table) => table.Isa == Isa.NeonDot && System.Runtime.Intrinsics.Arm.Dp.IsSupported;

    // The x86 and ARM branches sit under IsSupported checks that are constants in a NativeAOT build, so the binary for
    // one architecture carries none of the other's kernels.
    private void Dispatch<T>(in QConvDirectArgs<T> args) where T : unmanaged
    {
        if (System.Runtime.Intrinsics.X86.X86Base.IsSupported)
        {
            if (PackedPairs512.Length != 0) QConvDirect8x16PairsAvx512.Run(args);
            else if (FieldQuads > 0) QConvDirect8x16FieldAvxVnni.Run(args);
            else if (Table.Isa == Isa.AvxVnni) QConvDirectAvxVnni.Run(args);
            else if (IsVectorized(Table)) QConvDirectAvx2.Run(args);
            else QConvDirectScalar.Run(args);
        }
        else if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported && UsesDot(Table)) QConvDirectNeonDot.Run(args);
        else if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported && SimdPaths.For(Table.Isa) == SimdPath.Neon) QConvDirectNeon.Run(args);
        else QConvDirectScalar.Run(args);
    }

    private void Check(int inputLength, int inputZeroPoint, int zpMin, int zpMax, int biasLength, int scalesLength,
        QuantizedOutput output, int destinationLength, int rowStart, int rowCount)
    {
        const string Kernel = "direct conv";
        var s = Shape;
        if (inputZeroPoint < zpMin || inputZeroPoint > zpMax) throw new ArgumentException($"{Kernel}: input zero point {inputZeroPoint} outside {zpMin}..{zpMax}");
        if (output.Min < zpMin || output.Max > zpMax) throw new ArgumentException($"{Kernel}: output range {output.Min}..{output.Max} does not fit the element type ({zpMin}..{zpMax})");
        KernelArguments.CheckLength(Kernel, "input", inputLength, (long)s.Batch * s.Height * s.Width * s.InChannels);
        if (biasLength != 0) KernelArguments.CheckLength(Kernel, "bias", biasLength, s.OutChannels);
        if (scalesLength != 1) KernelArguments.CheckLength(Kernel, "scales", scalesLength, s.OutChannels);
        KernelArguments.CheckLength(Kernel, "destination", destinationLength, (long)s.Batch * s.OutHeight * s.OutWidth * s.OutChannels);
        KernelArguments.CheckRange(Kernel, "output rows", rowStart, rowCount, s.Batch * s.OutHeight);
    }
}

/// <summary>One call of <see cref="QConvDirect"/>, shared by every path.</summary>
internal readonly ref struct QConvDirectArgs<T> where T : unmanaged
{
    public readonly QConvDirect Conv;
    public readonly ReadOnlySpan<T> Input;
    public readonly int InputZeroPoint;
    public readonly ReadOnlySpan<int> Bias;
    public readonly ReadOnlySpan<float> Scales;
    public readonly QuantizedOutput Output;
    public readonly Span<T> Destination;
    public readonly int RowStart;
    public readonly int RowEnd;

    public QConvDirectArgs(QConvDirect conv, ReadOnlySpan<T> input, int inputZeroPoint, ReadOnlySpan<int> bias, ReadOnlySpan<float> scales,
        QuantizedOutput output, Span<T> destination, int rowStart, int rowEnd)
    {
        Conv = conv;
        Input = input;
        InputZeroPoint = inputZeroPoint;
        Bias = bias;
        Scales = scales;
        Output = output;
        Destination = destination;
        RowStart = rowStart;
        RowEnd = rowEnd;
    }

    /// <summary>
    /// The epilogue's per-channel constants for the vector paths, padded to whole 8-channel blocks (a pad channel
    /// gets scale 1 and bias 0, so its lanes stay finite and are never stored): each channel's scale, and its bias
    /// minus <paramref name="foldedZeroPoint"/> times its weight sum — the paths that multiply raw (or shifted) input
    /// bytes fold the zero point in here; the ones that subtract it per tap pass 0.
    /// </summary>
    public unsafe void FillChannelConstants(float* scales, int* bias, int foldedZeroPoint)
    {
        int cout = Conv.Shape.OutChannels, padded = Conv.ChannelBlocks * 8;
        for (int o = 0; o < padded; o++)
        {
            if (o >= cout)
            {
                scales[o] = 1f;
                bias[o] = 0;
                continue;
            }
            scales[o] = Scales.Length == 1 ? Scales[0] : Scales[o];
            bias[o] = (Bias.IsEmpty ? 0 : Bias[o]) - (foldedZeroPoint == 0 ? 0 : foldedZeroPoint * Conv.ChannelSums[o]);
        }
    }
}
