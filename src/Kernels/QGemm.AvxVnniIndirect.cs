using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// AVX-VNNI indirect GEMM (a convolution without im2col): the 6x16 tile of <see cref="QGemm6x16AvxVnni"/> whose
/// A rows are not contiguous but made of one <c>channels</c>-byte run per kernel tap, each found through a
/// pointer table (<c>ptrs[tap * 6 + row]</c>: the NHWC input pixel the tap hits, or a row of input zero points
/// for padding). The packed weights' K order is (tap, channel), so the weights stream through exactly as for the
/// gathered rows; with the channel count a multiple of 4 no k-group straddles two taps. Same products in the same
/// order as <see cref="QGemm6x16AvxVnni"/> on the im2col rows, so the same bits; what goes is the im2col copy (a
/// 3x3 convolution over 64 channels writes and rereads 576 bytes per output pixel) and its cache footprint.
/// </summary>
internal static unsafe class QIGemm6x16AvxVnni
{
    public const int Mr = 6;

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Tile<TRows, TSigned, TSink>(byte** ptrs, int taps, int channels, byte* b, QGemmTileOutput* o)
        where TRows : struct, IRowCount where TSigned : struct, IFlag where TSink : struct, IQGemmTileSink
    {
        Vector256<int> c00 = TSink.Start0(o), c01 = TSink.Start1(o);
        Vector256<int> c10 = c00, c11 = c01;
        Vector256<int> c20 = c00, c21 = c01;
        Vector256<int> c30 = c00, c31 = c01;
        Vector256<int> c40 = c00, c41 = c01;
        Vector256<int> c50 = c00, c51 = c01;
        var flip = Vector256.Create((byte)0x80);
        nint end = channels;
        for (int t = 0; t < taps; t++, ptrs += Mr)
        {
            byte* a0 = ptrs[0];
            byte* a1 = ptrs[1];
            byte* a2 = ptrs[2];
            byte* a3 = ptrs[3];
            byte* a4 = ptrs[4];
            byte* a5 = ptrs[5];
            for (nint kk = 0; kk < end; kk += 4)
            {
                var b0 = Vector256.Load((sbyte*)b);
                var b1 = Vector256.Load((sbyte*)b + 32);
                b += 64;
                var x = QGemm6x16AvxVnni.Broadcast<TSigned>(a0 + kk, flip);
                c00 = AvxVnni.MultiplyWideningAndAdd(c00, x, b0);
                c01 = AvxVnni.MultiplyWideningAndAdd(c01, x, b1);
                if (TRows.Value > 1)
                {
                    x = QGemm6x16AvxVnni.Broadcast<TSigned>(a1 + kk, flip);
                    c10 = AvxVnni.MultiplyWideningAndAdd(c10, x, b0);
                    c11 = AvxVnni.MultiplyWideningAndAdd(c11, x, b1);
                }
                if (TRows.Value > 2)
                {
                    x = QGemm6x16AvxVnni.Broadcast<TSigned>(a2 + kk, flip);
                    c20 = AvxVnni.MultiplyWideningAndAdd(c20, x, b0);
                    c21 = AvxVnni.MultiplyWideningAndAdd(c21, x, b1);
                }
                if (TRows.Value > 3)
                {
                    x = QGemm6x16AvxVnni.Broadcast<TSigned>(a3 + kk, flip);
                    c30 = AvxVnni.MultiplyWideningAndAdd(c30, x, b0);
                    c31 = AvxVnni.MultiplyWideningAndAdd(c31, x, b1);
                }
                if (TRows.Value > 4)
                {
                    x = QGemm6x16AvxVnni.Broadcast<TSigned>(a4 + kk, flip);
                    c40 = AvxVnni.MultiplyWideningAndAdd(c40, x, b0);
                    c41 = AvxVnni.MultiplyWideningAndAdd(c41, x, b1);
                }
                if (TRows.Value > 5)
                {
                    x = QGemm6x16AvxVnni.Broadcast<TSigned>(a5 + kk, flip);
                    c50 = AvxVnni.MultiplyWideningAndAdd(c50, x, b0);
                    c51 = AvxVnni.MultiplyWideningAndAdd(c51, x, b1);
                }
            }
        }
        QGemm6x16AvxVnni.Finish<TRows, TSink>(o, c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51);
    }
}
