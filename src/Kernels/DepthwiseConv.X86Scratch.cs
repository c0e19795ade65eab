using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
    /// <summary>Bytes from <see cref="Weights"/> to the end of <see cref="Scales"/>: what <see cref="DepthwiseX86Prepared"/> keeps.</summary>
    public readonly int PreparedBytes;
    private readonly int _period;

    /// <summary>Bytes to rent for a call: prepared weights, epilogue constants for <paramref name="phases"/>, the period copies, then <paramref name="restBytes"/>.</summary>
    public static int Bytes(int weightBytes, int phases, int taps, int period, int restBytes) =>
        Align(weightBytes) + 2 * Align(phases * 128) + Align(taps * period) + 2 * Align(period * 4) + restBytes + 64;

    public static int Align(int bytes) => (bytes + 63) & ~63;

    /// <summary>Bytes a <see cref="DepthwiseX86Prepared"/> keeps for this layout.</summary>
    public static int PreparedSize(int weightBytes, int phases) => Align(weightBytes) + 2 * Align(phases * 128);

    /// <param name="raw">The pinned start of a block of at least <see cref="Bytes"/> bytes.</param>
    /// <param name="prepared">Weights, bias and scales prepared by an earlier call (<see cref="DepthwiseX86Prepared.Start"/>), or null to use the block's own.</param>
    public DepthwiseX86Scratch(byte* raw, int weightBytes, int phases, int taps, int period, byte* prepared = null)
    {
        byte* p = (byte*)(((nint)raw + 63) & ~(nint)63);
        PreparedBytes = PreparedSize(weightBytes, phases);
        byte* head = prepared != null ? prepared : p;
        Weights = head;
        Bias = head + Align(weightBytes);
        Scales = Bias + Align(phases * 128);
        p += PreparedBytes;
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

    /// <summary>
    /// Phase ph's bias less zp * sum(w) (<paramref name="c0"/> .. <paramref name="c3"/>: the zero point times the
    /// weight sums, in accumulator order) and its scales, from the period copies into accumulator order.
    /// </summary>
    public void StoreEpilogue(int ph, Vector256<int> c0, Vector256<int> c1, Vector256<int> c2, Vector256<int> c3)
    {
        int* b = ExpandedBias + ph * 32, s = (int*)ExpandedScales + ph * 32;
        var bq = (Vector256<int>*)(Bias + ph * 128);
        var sq = (Vector256<int>*)(Scales + ph * 128);
        bq[0] = Avx2.Subtract(InAccumulatorOrder(b, 0), c0);
        bq[1] = Avx2.Subtract(InAccumulatorOrder(b, 1), c1);
        bq[2] = Avx2.Subtract(InAccumulatorOrder(b, 2), c2);
        bq[3] = Avx2.Subtract(InAccumulatorOrder(b, 3), c3);
        for (int v = 0; v < 4; v++) sq[v] = InAccumulatorOrder(s, v);
    }

    /// <summary>Phase ph's 32 ints or floats in accumulator order: vector v, lane L, element e holds byte 16 L + 4 v + e.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> InAccumulatorOrder(int* period32, int v) =>
        Vector256.Create(Sse2.LoadVector128(period32 + 4 * v), Sse2.LoadVector128(period32 + 16 + 4 * v));

    /// <summary>Tap t's 32 weight bytes of phase ph from the period copy; zero for taps past the last (groups padded to four).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Vector256<byte> ExpandedTap(int tap, int taps, int ph) =>
        tap < taps ? Avx.LoadVector256(ExpandedWeights + tap * _period + ph * 32) : Vector256<byte>.Zero;
}
