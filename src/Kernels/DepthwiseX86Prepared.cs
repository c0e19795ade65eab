using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EdgeAgent.Kernels;

/// <summary>The x86 depthwise kernels whose prepared weights <see cref="DepthwiseX86Prepared"/> keeps; each prepares its own layout.</summary>
internal enum DepthwiseX86Kernel
{
    PairStrips,
    StridePairs,
    PixelPairs,
    LanePairs,
    QuadRows,
    RowsPairs,
    RowsQuads,
    /// <summary><see cref="DepthwiseConv3x3F32Avx512"/>: float weights, folded bias and scales per 16 channels.</summary>
    F32Taps,
    /// <summary><see cref="DepthwiseConv3x3RowPairsAvx512"/>: int16 weight pairs (rows 0/1) and singles (row 2), folded bias and scales per 16 channels.</summary>
    RowPairs16,
}

/// <summary>
/// The head of a <see cref="DepthwiseX86Scratch"/> (prepared weight vectors, bias less zp * sum(w), scales in
/// accumulator order) and the high-clamp check, as one kernel prepared them for one set of weights, kept in
/// <see cref="DepthwiseWeights"/> so that only the first call of a node expands, interleaves and sums its weights.
/// Why a check per call instead of preparing at <see cref="KernelTable.PackDepthwise"/>: the layout depends on the
/// kernel the call's shape selects, and the constants on the input zero point, its type, the bias and the scales,
/// which the depthwise call receives; comparing them (2 x C values) costs far less than preparing again.
/// Immutable once made, so threads splitting the rows of one node share it without locks.
/// </summary>
internal sealed unsafe class DepthwiseX86Prepared
{
    private readonly byte[] _block;
    private readonly DepthwiseX86Kernel _kernel;
    private readonly int _kernelHeight, _kernelWidth, _zpStored, _bytes;
    private readonly bool _noBias;
    private readonly int[] _bias;
    private readonly float[] _scales;

    /// <summary>The prepared head, 64-byte aligned, in a pinned block.</summary>
    public readonly byte* Start;

    /// <summary>Whether no output can pass the high clamp (<see cref="DepthwiseConvX86Rows.FitsWithoutHighClamp"/>).</summary>
    public readonly bool Fits;

    private DepthwiseX86Prepared(DepthwiseX86Kernel kernel, in WindowGeometry g, int zpStored, ReadOnlySpan<int> bias,
        ReadOnlySpan<float> scales, byte* head, int bytes, bool fits)
    {
        _kernel = kernel;
        _kernelHeight = g.KernelHeight;
        _kernelWidth = g.KernelWidth;
        _zpStored = zpStored;
        _bytes = bytes;
        _noBias = bias.IsEmpty;
        _bias = bias.ToArray();
        _scales = scales.ToArray();
        Fits = fits;
        _block = GC.AllocateUninitializedArray<byte>(bytes + 64, pinned: true);
        Start = (byte*)(((nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_block)) + 63) & ~(nint)63);
        Unsafe.CopyBlockUnaligned(Start, head, (uint)bytes);
    }

    /// <summary>What <paramref name="packed"/> holds for this kernel and call, or null when nothing or something else is kept.</summary>
    public static DepthwiseX86Prepared? Find(DepthwiseWeights? packed, DepthwiseX86Kernel kernel, in WindowGeometry g, int zpStored,
        ReadOnlySpan<int> bias, ReadOnlySpan<float> scales, int bytes)
    {
        DepthwiseX86Prepared? kept = packed?.X86Prepared;
        if (kept is null || kept._kernel != kernel || kept._kernelHeight != g.KernelHeight || kept._kernelWidth != g.KernelWidth
            || kept._zpStored != zpStored || kept._bytes != bytes || kept._noBias != bias.IsEmpty)
            return null;
        // The scales compare as bits: a NaN scale must match itself, and -0 and 0 are kept apart like any other change.
        if (!bias.SequenceEqual(kept._bias) || !MemoryMarshal.Cast<float, int>(scales).SequenceEqual(MemoryMarshal.Cast<float, int>(kept._scales.AsSpan())))
            return null;
        return kept;
    }

    /// <summary>
    /// The prepare-or-reuse step every x86 depthwise kernel takes at the start of a call: with <paramref name="ready"/>
    /// (what <see cref="Find"/> returned) the kept high-clamp check; otherwise the call's weights are prepared into
    /// <paramref name="scratch"/> (the period copies first when the kernel reads them, then the kernel's own layout), the
    /// check is made, and the head is kept for the node's next calls. Returns whether no output can pass the high clamp.
    /// </summary>
    public static bool PrepareOrReuse<T, TPreparation>(DepthwiseX86Prepared? ready, in DepthwiseArgs<T> a, DepthwiseX86Kernel kernel,
        int zpStored, in DepthwiseX86Scratch scratch, sbyte* weights, int taps, int* bias, float* scales, in TPreparation preparation)
        where T : unmanaged where TPreparation : struct, IDepthwiseX86Preparation
    {
        if (ready is not null) return ready.Fits;
        if (preparation.Expands) scratch.Expand(weights, taps, a.Channels, bias, a.Bias.IsEmpty, scales);
        preparation.Prepare(scratch);
        bool fits = DepthwiseConvX86Rows.FitsWithoutHighClamp(weights, taps, a.Channels, bias, a.Bias.IsEmpty, scales, zpStored);
        Keep(a.Packed, kernel, a.Geometry, zpStored, a.Bias, a.Scales, scratch, fits);
        return fits;
    }

    /// <summary>Keeps a copy of the just-prepared head of <paramref name="scratch"/> in <paramref name="packed"/> (if any) for the next calls.</summary>
    public static void Keep(DepthwiseWeights? packed, DepthwiseX86Kernel kernel, in WindowGeometry g, int zpStored,
        ReadOnlySpan<int> bias, ReadOnlySpan<float> scales, in DepthwiseX86Scratch scratch, bool fits) =>
        Keep(packed, kernel, g, zpStored, bias, scales, scratch.Weights, scratch.PreparedBytes, fits);

    /// <summary>Keeps a copy of <paramref name="bytes"/> prepared bytes at <paramref name="head"/> in <paramref name="packed"/> (if any).</summary>
    public static void Keep(DepthwiseWeights? packed, DepthwiseX86Kernel kernel, in WindowGeometry g, int zpStored,
        ReadOnlySpan<int> bias, ReadOnlySpan<float> scales, byte* head, int bytes, bool fits)
    {
        if (packed is null) return;
        packed.X86Prepared = new DepthwiseX86Prepared(kernel, g, zpStored, bias, scales, head, bytes, fits);
    }
}

/// <summary>One x86 depthwise kernel's weight preparation, as <see cref="DepthwiseX86Prepared.PrepareOrReuse"/> runs it.</summary>
internal interface IDepthwiseX86Preparation
{
    /// <summary>Whether the kernel prepares from the period copies (<see cref="DepthwiseX86Scratch.Expand"/>), made first.</summary>
    bool Expands { get; }

    /// <summary>Lays out the prepared weight vectors, bias less zp * sum(w) and scales in the head of <paramref name="scratch"/>.</summary>
    void Prepare(in DepthwiseX86Scratch scratch);
}
