using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// AVX-VNNI for the last 3 or 4 rows of a block (all of it when M is 3 or 4) on a core that also has AVX-512
/// (Zen 4/5, Ice Lake and later): 4 rows x 32 columns, two consecutive 16-column panels of
/// <see cref="QGemm6x16AvxVnni"/>'s packing at once. A 4-row 6x16 tile has only 8 accumulators, so its VPDPBUSD
/// chains wait on the instruction's latency; here there are 16. With AVX-512 the JIT encodes VPDPBUSD with EVEX
/// and puts the four weight vectors and the broadcast in ymm16-31, next to the 16 accumulators (the
/// instruction's read-modify-write operand, which it keeps in ymm0-15). Same layout, same products, same
/// per-element order of additions as the 16-column tile, so the bits are those of every other path.
/// </summary>
internal static unsafe class QGemm4x32AvxVnni
{
    /// <summary>Whether the tile fits the registers: EVEX-encoded VNNI (AVX-512 VL) next to AVX-VNNI.</summary>
    public static bool IsSupported => AvxVnni.IsSupported && Avx512F.VL.IsSupported;

    /// <summary>
    /// Rows of A (<typeparamref name="TRows"/>, 1..4) against panels <paramref name="b"/> and
    /// <paramref name="b"/> + <paramref name="panelBytes"/>, finished through <paramref name="o0"/> (columns 0..15)
    /// and <paramref name="o1"/> (16..31).
    /// </summary>
    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile<TRows, TSigned, TSink>(byte* a, nint lda, int k, byte* b, nint panelBytes, QGemmTileOutput* o0, QGemmTileOutput* o1)
        where TRows : struct, IRowCount where TSigned : struct, IFlag where TSink : struct, IQGemmTileSink
    {
        Vector256<int> c00 = TSink.Start0(o0), c01 = TSink.Start1(o0), c02 = TSink.Start0(o1), c03 = TSink.Start1(o1);
        Vector256<int> c10 = c00, c11 = c01, c12 = c02, c13 = c03;
        Vector256<int> c20 = c00, c21 = c01, c22 = c02, c23 = c03;
        Vector256<int> c30 = c00, c31 = c01, c32 = c02, c33 = c03;
        byte* a0 = a;
        byte* a1 = a + lda;
        byte* a2 = a + 2 * lda;
        byte* a3 = a + 3 * lda;
        byte* q = b + panelBytes;
        var flip = Vector256.Create((byte)0x80);
        int* tail = stackalloc int[4];
        int kk = 0, kEnd = k & ~3;
    Loop:
        for (; kk < kEnd; kk += 4)
        {
            var b0 = Vector256.Load((sbyte*)b);
            var b1 = Vector256.Load((sbyte*)b + 32);
            var b2 = Vector256.Load((sbyte*)q);
            var b3 = Vector256.Load((sbyte*)q + 32);
            b += 64;
            q += 64;
            var x = QGemm6x16AvxVnni.Broadcast<TSigned>(a0 + kk, flip);
            c00 = AvxVnni.MultiplyWideningAndAdd(c00, x, b0);
            c01 = AvxVnni.MultiplyWideningAndAdd(c01, x, b1);
            c02 = AvxVnni.MultiplyWideningAndAdd(c02, x, b2);
            c03 = AvxVnni.MultiplyWideningAndAdd(c03, x, b3);
            if (TRows.Value > 1)
            {
                x = QGemm6x16AvxVnni.Broadcast<TSigned>(a1 + kk, flip);
                c10 = AvxVnni.MultiplyWideningAndAdd(c10, x, b0);
                c11 = AvxVnni.MultiplyWideningAndAdd(c11, x, b1);
                c12 = AvxVnni.MultiplyWideningAndAdd(c12, x, b2);
                c13 = AvxVnni.MultiplyWideningAndAdd(c13, x, b3);
            }
            if (TRows.Value > 2)
            {
                x = QGemm6x16AvxVnni.Broadcast<TSigned>(a2 + kk, flip);
                c20 = AvxVnni.MultiplyWideningAndAdd(c20, x, b0);
                c21 = AvxVnni.MultiplyWideningAndAdd(c21, x, b1);
                c22 = AvxVnni.MultiplyWideningAndAdd(c22, x, b2);
                c23 = AvxVnni.MultiplyWideningAndAdd(c23, x, b3);
            }
            if (TRows.Value > 3)
            {
                x = QGemm6x16AvxVnni.Broadcast<TSigned>(a3 + kk, flip);
                c30 = AvxVnni.MultiplyWideningAndAdd(c30, x, b0);
                c31 = AvxVnni.MultiplyWideningAndAdd(c31, x, b1);
                c32 = AvxVnni.MultiplyWideningAndAdd(c32, x, b2);
                c33 = AvxVnni.MultiplyWideningAndAdd(c33, x, b3);
            }
        }
        if (kk < k)
        {
            // The last 1..3 k: one more pass of the same loop over a zero-filled copy of each row's tail (the
            // packed weights beyond K are zero), the row pointers moved so that a_r + kk lands on the copy.
            for (int r = 0; r < TRows.Value; r++) tail[r] = QGemm6x16AvxVnni.LoadTail(a + r * lda + kk, k - kk);
            a0 = (byte*)tail - kk;
            a1 = (byte*)(tail + 1) - kk;
            a2 = (byte*)(tail + 2) - kk;
            a3 = (byte*)(tail + 3) - kk;
            kEnd = kk + 4;
            goto Loop;
        }
        if (TRows.Value > 3)
        {
            TSink.Rows4(o0, 0, c00, c01, c10, c11, c20, c21, c30, c31);
            TSink.Rows4(o1, 0, c02, c03, c12, c13, c22, c23, c32, c33);
            return;
        }
        if (TRows.Value > 1) { TSink.Rows2(o0, 0, c00, c01, c10, c11); TSink.Rows2(o1, 0, c02, c03, c12, c13); }
        else { TSink.Row(o0, 0, c00, c01); TSink.Row(o1, 0, c02, c03); }
        if (TRows.Value > 2) { TSink.Row(o0, 2, c20, c21); TSink.Row(o1, 2, c22, c23); }
    }
}
