using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// AVX-VNNI for small depths (K ≤ 16, a multiple of 4: a pointwise convolution over 16 channels) on a core with
/// AVX-512: one 16-column panel of <see cref="QGemm6x16AvxVnni"/>'s packing is loaded once into up to 8 registers
/// and every row of the block passes over it, four rows at a time (8 accumulators), finished on the registers by
/// the tile sink. With K = 16 a 6x16 tile spends as many instructions on its call, accumulator setup and weight
/// loads as on its 48 VPDPBUSD; here a row costs its K/4 broadcasts, K/2 VPDPBUSD and its share of the epilogue.
/// K = 32 does not pay: 16 weight registers push the accumulators into ymm16-31, which the JIT copies through a low
/// register around every VPDPBUSD (measured 12% slower than the 6x16 tile). Same products, same per-element order
/// of additions (k ascending from the column terms), so the same bits as every other path.
/// </summary>
internal static unsafe class QGemm4x16PanelAvxVnni
{
    /// <summary>Deepest K whose panel (8 vectors) stays in registers next to 8 accumulators.</summary>
    public const int MaxK = 16;

    /// <summary>Whether the kernel fits the registers: EVEX-encoded VNNI (AVX-512 VL) next to AVX-VNNI.</summary>
    public static bool IsSupported => AvxVnni.IsSupported && Avx512F.VL.IsSupported;

    /// <summary>Whether depth <paramref name="k"/> runs here: a multiple of 4 up to <see cref="MaxK"/>.</summary>
    public static bool Supports(int k) => IsSupported && k > 0 && k <= MaxK && k % 4 == 0;

    /// <summary>Rows [0, <paramref name="rows"/>) of <paramref name="a"/> against panel <paramref name="b"/> (K = 4 x <typeparamref name="TK4"/>), into <paramref name="o"/>.</summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rows<TK4, TSigned, TSink>(byte* a, nint lda, int rows, byte* b, QGemmTileOutput* o)
        where TK4 : struct, IKGroups where TSigned : struct, IFlag where TSink : struct, IQGemmTileSink
    {
        int k4 = TK4.Value;
        Vector256<sbyte> w0a = Vector256.Load((sbyte*)b), w0b = Vector256.Load((sbyte*)b + 32);
        Vector256<sbyte> w1a = default, w1b = default, w2a = default, w2b = default, w3a = default, w3b = default;
        if (k4 > 1) { w1a = Vector256.Load((sbyte*)b + 64); w1b = Vector256.Load((sbyte*)b + 96); }
        if (k4 > 2) { w2a = Vector256.Load((sbyte*)b + 128); w2b = Vector256.Load((sbyte*)b + 160); }
        if (k4 > 3) { w3a = Vector256.Load((sbyte*)b + 192); w3b = Vector256.Load((sbyte*)b + 224); }
        var flip = Vector256.Create((byte)0x80);
        int r = 0;
        for (; r + 4 <= rows; r += 4, a += 4 * lda)
        {
            Vector256<int> c00 = TSink.Start0(o), c01 = TSink.Start1(o);
            Vector256<int> c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
            Step<TSigned>(a, lda, 0, flip, w0a, w0b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31);
            if (k4 > 1) Step<TSigned>(a, lda, 4, flip, w1a, w1b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31);
            if (k4 > 2) Step<TSigned>(a, lda, 8, flip, w2a, w2b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31);
            if (k4 > 3) Step<TSigned>(a, lda, 12, flip, w3a, w3b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31);
            TSink.Rows4(o, r, c00, c01, c10, c11, c20, c21, c30, c31);
        }
        // The last 1..3 rows: the same steps with the missing rows reading row 0 again, never stored.
        if (r < rows)
        {
            int left = rows - r;
            nint l1 = left > 1 ? lda : 0, l2 = left > 2 ? 2 * lda : 0;
            Vector256<int> c00 = TSink.Start0(o), c01 = TSink.Start1(o);
            Vector256<int> c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
            byte* a1 = a + l1, a2 = a + l2;
            StepRows<TSigned>(a, a1, a2, 0, flip, w0a, w0b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21);
            if (k4 > 1) StepRows<TSigned>(a, a1, a2, 4, flip, w1a, w1b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21);
            if (k4 > 2) StepRows<TSigned>(a, a1, a2, 8, flip, w2a, w2b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21);
            if (k4 > 3) StepRows<TSigned>(a, a1, a2, 12, flip, w3a, w3b, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21);
            if (left == 1) TSink.Row(o, r, c00, c01);
            else TSink.Rows2(o, r, c00, c01, c10, c11);
            if (left == 3) TSink.Row(o, r + 2, c20, c21);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<TSigned>(byte* a, nint lda, int k, Vector256<byte> flip, Vector256<sbyte> wa, Vector256<sbyte> wb,
        ref Vector256<int> c00, ref Vector256<int> c01, ref Vector256<int> c10, ref Vector256<int> c11,
        ref Vector256<int> c20, ref Vector256<int> c21, ref Vector256<int> c30, ref Vector256<int> c31) where TSigned : struct, IFlag
    {
        var x = QGemm6x16AvxVnni.Broadcast<TSigned>(a + k, flip);
        c00 = AvxVnni.MultiplyWideningAndAdd(c00, x, wa);
        c01 = AvxVnni.MultiplyWideningAndAdd(c01, x, wb);
        x = QGemm6x16AvxVnni.Broadcast<TSigned>(a + lda + k, flip);
        c10 = AvxVnni.MultiplyWideningAndAdd(c10, x, wa);
        c11 = AvxVnni.MultiplyWideningAndAdd(c11, x, wb);
        x = QGemm6x16AvxVnni.Broadcast<TSigned>(a + 2 * lda + k, flip);
        c20 = AvxVnni.MultiplyWideningAndAdd(c20, x, wa);
        c21 = AvxVnni.MultiplyWideningAndAdd(c21, x, wb);
        x = QGemm6x16AvxVnni.Broadcast<TSigned>(a + 3 * lda + k, flip);
        c30 = AvxVnni.MultiplyWideningAndAdd(c30, x, wa);
        c31 = AvxVnni.MultiplyWideningAndAdd(c31, x, wb);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StepRows<TSigned>(byte* a0, byte* a1, byte* a2, int k, Vector256<byte> flip, Vector256<sbyte> wa, Vector256<sbyte> wb,
        ref Vector256<int> c00, ref Vector256<int> c01, ref Vector256<int> c10, ref Vector256<int> c11,
        ref Vector256<int> c20, ref Vector256<int> c21) where TSigned : struct, IFlag
    {
        var x = QGemm6x16AvxVnni.Broadcast<TSigned>(a0 + k, flip);
        c00 = AvxVnni.MultiplyWideningAndAdd(c00, x, wa);
        c01 = AvxVnni.MultiplyWideningAndAdd(c01, x, wb);
        x = QGemm6x16AvxVnni.Broadcast<TSigned>(a1 + k, flip);
        c10 = AvxVnni.MultiplyWideningAndAdd(c10, x, wa);
        c11 = AvxVnni.MultiplyWideningAndAdd(c11, x, wb);
        x = QGemm6x16AvxVnni.Broadcast<TSigned>(a2 + k, flip);
        c20 = AvxVnni.MultiplyWideningAndAdd(c20, x, wa);
        c21 = AvxVnni.MultiplyWideningAndAdd(c21, x, wb);
    }
}
