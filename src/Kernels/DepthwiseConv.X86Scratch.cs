using System.Runtime.CompilerServices;

namespace EdgeAgent.Kernels;

/// <summary>
/// The per-call scratch layout shared by the x86 depthwise row kernels (<see cref="DepthwiseConvX86Rows"/>,
/// <see cref="DepthwiseConvX86QuadRows"/>, <see cref="DepthwiseConvX86PixelPairs"/>, <see cref="DepthwiseConvX86LanePairs"/>):
/// one pooled block, 64-byte aligned, cut into the prepared weight vectors, the bias (less zp * sum(w)) and the
/// scales in accumulator order (128 bytes per channel phase each), the weights, bias and scales repeated over one
/// period of <c>lcm(C, 32)</c> bytes so that every phase is a plain load, and then the kernel's own buffers.
/// Every part starts on a 64-byte boundary.
/// </summary>
internal readonly unsafe struct DepthwiseX86Scratch
{
    public readonly byte* Weights;
    public readonly byte* Bias;
    public readonly byte* Scales;
    public readonly byte* ExpandedWeights;
    public readonly int* ExpandedBias;
    public readonly float* ExpandedScales;
    /// <summary>The kernel's own buffers (slots, quad rows, the tail of a row).</summary>
    public readonly byte* Rest;
    private readonly int _period;

    /// <summary>Bytes to rent for a call: prepared weights, epilogue constants for <paramref name="phases"/>, the period copies, then <paramref name="restBytes"/>.</summary>
    public static int Bytes(int weightBytes, int phases, int taps, int period, int restBytes) =>
        Align(weightBytes) + 2 * Align(phases * 128) + Align(taps * period) + 2 * Align(period * 4) + restBytes + 64;

    public static int Align(int bytes) => (bytes + 63) & ~63;

    /// <param name="raw">The pinned start of a block of at least <see cref="Bytes"/> bytes.</param>
    public DepthwiseX86Scratch(byte* raw, int weightBytes, int phases, int taps, int period)
    {
        byte* p = (byte*)(((nint)raw + 63) & ~(nint)63);
        Weights = p; p += Align(weightBytes);
        Bias = p; p += Align(phases * 128);
        Scales = p; p += Align(phases * 128);
        ExpandedWeights = p; p += Align(taps * period);
        ExpandedBias = (int*)p; p += Align(period * 4);
        ExpandedScales = (float*)p; p += Align(period * 4);
        Rest = p;
        _period = period;
    }

    /// <summary>Weights [tap][C], bias and scales repeated to one period, so every phase is a plain load.</summary>
    public void Expand(sbyte* weights, int taps, int channels, int* bias, bool noBias, float* scales)
    {
        for (int r = 0; r < _period; r += channels)
        {
            for (int t = 0; t < taps; t++)
                Unsafe.CopyBlockUnaligned(ExpandedWeights + t * _period + r, weights + t * channels, (uint)channels);
            if (noBias) Unsafe.InitBlockUnaligned(ExpandedBias + r, 0, (uint)(channels * 4));
            else Unsafe.CopyBlockUnaligned(ExpandedBias + r, bias, (uint)(channels * 4));
            Unsafe.CopyBlockUnaligned(ExpandedScales + r, scales, (uint)(channels * 4));
        }
    }
}
