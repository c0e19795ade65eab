using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// AVX-VNNI path: 6 rows x 16 columns, k in groups of 4 (c4). One 256-bit VPDPBUSD multiplies 4 u8
/// activations (broadcast) by 4 s8 weights for 8 columns and adds the 4 products into int32 without
/// saturation: 32 MACs per instruction, 12 per k-group. s8 activations are flipped to u8 by xor 0x80
/// (a + 128); the epilogue subtracts 128 * colsum exactly.
/// </summary>
internal unsafe struct QGemm6x16AvxVnni : IQGemmFusedMicrokernel
{
    public static int Mr => 6;
    public static int Nr => 16;

    public static void Tile<TRows, TSigned>(byte* a, nint lda, int k, byte* b, int* acc)
        where TRows : struct, IRowCount where TSigned : struct, IFlag
    {
        QGemmTileOutput o = default;
        o.Acc = acc;
        Tile<TRows, TSigned, RawTileSink<TileStride16>>(a, lda, k, b, &o);
    }

    /// <summary>
    /// The tile with its epilogue: accumulators start from <typeparamref name="TSink"/>'s column terms and
    /// leave through it (straight to C for the fused sinks).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile<TRows, TSigned, TSink>(byte* a, nint lda, int k, byte* b, QGemmTileOutput* o)
        where TRows : struct, IRowCount where TSigned : struct, IFlag where TSink : struct, IQGemmTileSink
    {
        Vector256<int> c00 = TSink.Start0(o), c01 = TSink.Start1(o);
        Vector256<int> c10 = c00, c11 = c01;
        Vector256<int> c20 = c00, c21 = c01;
        Vector256<int> c30 = c00, c31 = c01;
        Vector256<int> c40 = c00, c41 = c01;
        Vector256<int> c50 = c00, c51 = c01;
        byte* a0 = a + 0 * lda;
        byte* a1 = a + 1 * lda;
        byte* a2 = a + 2 * lda;
        byte* a3 = a + 3 * lda;
        byte* a4 = a + 4 * lda;
        byte* a5 = a + 5 * lda;
        var flip = Vector256.Create((byte)0x80);
        nint kFull = k & ~3;
        nint kk = 0;
        for (; kk < kFull; kk += 4)
        {
            var b0 = Vector256.Load((sbyte*)b);
            var b1 = Vector256.Load((sbyte*)b + 32);
            b += 64;
            var x0 = Vector256.Create(*(int*)(a0 + kk)).AsByte();
            if (TSigned.Value) x0 ^= flip;
            c00 = AvxVnni.MultiplyWideningAndAdd(c00, x0, b0);
            c01 = AvxVnni.MultiplyWideningAndAdd(c01, x0, b1);
            if (TRows.Value > 1)
            {
                var x1 = Vector256.Create(*(int*)(a1 + kk)).AsByte();
                if (TSigned.Value) x1 ^= flip;
                c10 = AvxVnni.MultiplyWideningAndAdd(c10, x1, b0);
                c11 = AvxVnni.MultiplyWideningAndAdd(c11, x1, b1);
            }
            if (TRows.Value > 2)
            {
                var x2 = Vector256.Create(*(int*)(a2 + kk)).AsByte();
                if (TSigned.Value) x2 ^= flip;
                c20 = AvxVnni.MultiplyWideningAndAdd(c20, x2, b0);
                c21 = AvxVnni.MultiplyWideningAndAdd(c21, x2, b1);
            }
            if (TRows.Value > 3)
            {
                var x3 = Vector256.Create(*(int*)(a3 + kk)).AsByte();
                if (TSigned.Value) x3 ^= flip;
                c30 = AvxVnni.MultiplyWideningAndAdd(c30, x3, b0);
                c31 = AvxVnni.MultiplyWideningAndAdd(c31, x3, b1);
            }
            if (TRows.Value > 4)
            {
                var x4 = Vector256.Create(*(int*)(a4 + kk)).AsByte();
                if (TSigned.Value) x4 ^= flip;
                c40 = AvxVnni.MultiplyWideningAndAdd(c40, x4, b0);
                c41 = AvxVnni.MultiplyWideningAndAdd(c41, x4, b1);
            }
            if (TRows.Value > 5)
            {
                var x5 = Vector256.Create(*(int*)(a5 + kk)).AsByte();
                if (TSigned.Value) x5 ^= flip;
                c50 = AvxVnni.MultiplyWideningAndAdd(c50, x5, b0);
                c51 = AvxVnni.MultiplyWideningAndAdd(c51, x5, b1);
            }
        }
        if (kk < k)
        {
            var b0 = Vector256.Load((sbyte*)b);
            var b1 = Vector256.Load((sbyte*)b + 32);
            int rest = k - (int)kk;
            var x0 = Vector256.Create(LoadTail(a0 + kk, rest)).AsByte();
            if (TSigned.Value) x0 ^= flip;
            c00 = AvxVnni.MultiplyWideningAndAdd(c00, x0, b0);
            c01 = AvxVnni.MultiplyWideningAndAdd(c01, x0, b1);
            if (TRows.Value > 1)
            {
                var x1 = Vector256.Create(LoadTail(a1 + kk, rest)).AsByte();
                if (TSigned.Value) x1 ^= flip;
                c10 = AvxVnni.MultiplyWideningAndAdd(c10, x1, b0);
                c11 = AvxVnni.MultiplyWideningAndAdd(c11, x1, b1);
            }
            if (TRows.Value > 2)
            {
                var x2 = Vector256.Create(LoadTail(a2 + kk, rest)).AsByte();
                if (TSigned.Value) x2 ^= flip;
                c20 = AvxVnni.MultiplyWideningAndAdd(c20, x2, b0);
                c21 = AvxVnni.MultiplyWideningAndAdd(c21, x2, b1);
            }
            if (TRows.Value > 3)
            {
                var x3 = Vector256.Create(LoadTail(a3 + kk, rest)).AsByte();
                if (TSigned.Value) x3 ^= flip;
                c30 = AvxVnni.MultiplyWideningAndAdd(c30, x3, b0);
                c31 = AvxVnni.MultiplyWideningAndAdd(c31, x3, b1);
            }
            if (TRows.Value > 4)
            {
                var x4 = Vector256.Create(LoadTail(a4 + kk, rest)).AsByte();
                if (TSigned.Value) x4 ^= flip;
                c40 = AvxVnni.MultiplyWideningAndAdd(c40, x4, b0);
                c41 = AvxVnni.MultiplyWideningAndAdd(c41, x4, b1);
            }
            if (TRows.Value > 5)
            {
                var x5 = Vector256.Create(LoadTail(a5 + kk, rest)).AsByte();
                if (TSigned.Value) x5 ^= flip;
                c50 = AvxVnni.MultiplyWideningAndAdd(c50, x5, b0);
                c51 = AvxVnni.MultiplyWideningAndAdd(c51, x5, b1);
            }
        }
        Finish<TRows, TSink>(o, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
    }

    /// <summary>
    /// A 6x16 tile's accumulators through the sink, the rows grouped as the sink packs them (four, then two, then
    /// one): shared by this tile and the indirect one (<see cref="QIGemm6x16AvxVnni"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Finish<TRows, TSink>(QGemmTileOutput* o, Vector256<int> c00, Vector256<int> c01, Vector256<int> c10, Vector256<int> c11,
        Vector256<int> c20, Vector256<int> c21, Vector256<int> c30, Vector256<int> c31, Vector256<int> c40, Vector256<int> c41,
        Vector256<int> c50, Vector256<int> c51)
        where TRows : struct, IRowCount where TSink : struct, IQGemmTileSink
    {
        if (TRows.Value > 3)
        {
            TSink.Rows4(o, 0, c00, c01, c10, c11, c20, c21, c30, c31);
        }
        else
        {
            if (TRows.Value > 1) TSink.Rows2(o, 0, c00, c01, c10, c11);
            else TSink.Row(o, 0, c00, c01);
            if (TRows.Value > 2) TSink.Row(o, 2, c20, c21);
        }
        if (TRows.Value > 5) TSink.Rows2(o, 4, c40, c41, c50, c51);
        else if (TRows.Value > 4) TSink.Row(o, 4, c40, c41);
    }

    /// <summary>
    /// Four bytes of an A row in every 32-bit lane, s8 flipped to u8 (x + 128): the broadcast operand of the AVX-VNNI
    /// tiles (pair, indirect, one-row).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<byte> Broadcast<TSigned>(byte* p, Vector256<byte> flip) where TSigned : struct, IFlag
    {
        var x = Vector256.Create(*(int*)p).AsByte();
        return TSigned.Value ? Avx2.Xor(x, flip) : x;
    }

    public static bool HasTilePair => QGemm4x32AvxVnni.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void TilePair<TRows, TSigned, TSink>(byte* a, nint lda, int k, byte* b, nint panelBytes, QGemmTileOutput* o0, QGemmTileOutput* o1)
        where TRows : struct, IRowCount where TSigned : struct, IFlag where TSink : struct, IQGemmTileSink =>
        QGemm4x32AvxVnni.Tile<TRows, TSigned, TSink>(a, lda, k, b, panelBytes, o0, o1);

    public static bool HasPanelRows(int k) => QGemm4x16PanelAvxVnni.Supports(k);

    public static void PanelRows<TSigned, TSink>(byte* a, nint lda, int k, int rows, byte* b, QGemmTileOutput* o)
        where TSigned : struct, IFlag where TSink : struct, IQGemmTileSink
    {
        switch (k >> 2)
        {
            case 1: QGemm4x16PanelAvxVnni.Rows<KGroups1, TSigned, TSink>(a, lda, rows, b, o); break;
            case 2: QGemm4x16PanelAvxVnni.Rows<KGroups2, TSigned, TSink>(a, lda, rows, b, o); break;
            case 3: QGemm4x16PanelAvxVnni.Rows<KGroups3, TSigned, TSink>(a, lda, rows, b, o); break;
            default: QGemm4x16PanelAvxVnni.Rows<KGroups4, TSigned, TSink>(a, lda, rows, b, o); break;
        }
    }

    /// <summary>The last 1..3 bytes of a row as one little-endian int, zero-filled (weights there are 0).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int LoadTail(byte* p, int count)
    {
        int v = p[0];
        if (count > 1) v |= p[1] << 8;
        if (count > 2) v |= p[2] << 16;
        return v;
    }
}
