namespace EdgeAgent.Kernels;

/// <summary>
/// Int8 depthwise weights <c>[KH][KW][C]</c> (symmetric s8) prepared once, at load, for one kernel path. The NEON
/// path multiplies int16 (SMLAL), so for it the weights are also kept widened to int16 here instead of being
/// widened on every call. The x86 paths read the bytes and keep here what their first call prepared from them
/// (<see cref="DepthwiseX86Prepared"/>), so later calls only read it. Made by <see cref="KernelTable.PackDepthwise"/>.
/// </summary>
public sealed class DepthwiseWeights
{
    internal readonly sbyte[] Bytes;
    internal readonly short[] Widened;
    private DepthwiseX86Prepared? _x86Prepared;

    /// <summary>The x86 kernel's prepared weights from an earlier call, or null; published whole, read once per call.</summary>
    internal DepthwiseX86Prepared? X86Prepared
    {
        get => Volatile.Read(ref _x86Prepared);
        set => Volatile.Write(ref _x86Prepared, value);
    }

    /// <summary>The kernel path these weights are prepared for; they can only be run through that path.</summary>
    public KernelTable Table { get; }

    /// <summary>Kernel taps (KH x KW).</summary>
    public int Taps { get; }

    /// <summary>Channels C.</summary>
    public int Channels { get; }

    internal DepthwiseWeights(KernelTable table, int taps, int channels, sbyte[] bytes, short[] widened)
    {
        Table = table;
        Taps = taps;
        Channels = channels;
        Bytes = bytes;
        Widened = widened;
    }
}
