using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// AVX-VNNI one-row kernel for GEMV-like work (M = 1, or the one or two rows left below the 6-row tile):
/// 1 row x 16·P columns, P = 1, 2 or 4 panels of <see cref="QGemm6x16AvxVnni"/>'s packing side by side.
/// A single row gives the 6x16 tile only two accumulators, so the loop waits on VPDPBUSD's latency; here
/// there are always eight independent chains: P panels times 4/P consecutive k-groups, each k-group set in
/// its own accumulators and the sets added at the end (integer addition, so the bits do not change).
/// </summary>
internal unsafe struct QGemm1x64AvxVnni : IQGemmRowMicrokernel
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Row<TPanels, TSigned>(byte* a, int k, byte* b, nint panelBytes, int* acc)
        where TPanels : struct, IRowCount where TSigned : struct, IFlag
    {
        int p = TPanels.Value;
        // Unit u (0..3) reads panel u % P at k-group (step * 4/P + u / P): its B stream and k offset.
        byte* q0 = b;
        byte* q1 = p >= 2 ? b + panelBytes : b + 64;
        byte* q2 = p == 4 ? b + 2 * panelBytes : p == 2 ? b + 64 : b + 128;
        byte* q3 = p == 4 ? b + 3 * panelBytes : p == 2 ? b + panelBytes + 64 : b + 192;
        int sets = 4 / p;
        Vector256<int> c0a = default, c0b = default, c1a = default, c1b = default;
        Vector256<int> c2a = default, c2b = default, c3a = default, c3b = default;
        var flip = Vector256.Create((byte)0x80);
        int groups = k >> 2;
        int kk = 0;
        for (int g = sets; g <= groups; g += sets)
        {
            // k-group set s reads A at kk + 4s; unit u belongs to set u / P.
            var s0 = QGemm6x16AvxVnni.Broadcast<TSigned>(a + kk, flip);
            var s1 = sets >= 2 ? QGemm6x16AvxVnni.Broadcast<TSigned>(a + kk + 4, flip) : s0;
            var x0 = s0;
            var x1 = p >= 2 ? s0 : s1;
            var x2 = p == 4 ? s0 : p == 2 ? s1 : QGemm6x16AvxVnni.Broadcast<TSigned>(a + kk + 8, flip);
            var x3 = p == 4 ? s0 : p == 2 ? s1 : QGemm6x16AvxVnni.Broadcast<TSigned>(a + kk + 12, flip);
            c0a = AvxVnni.MultiplyWideningAndAdd(c0a, x0, Avx.LoadVector256((sbyte*)q0));
            c0b = AvxVnni.MultiplyWideningAndAdd(c0b, x0, Avx.LoadVector256((sbyte*)q0 + 32));
            c1a = AvxVnni.MultiplyWideningAndAdd(c1a, x1, Avx.LoadVector256((sbyte*)q1));
            c1b = AvxVnni.MultiplyWideningAndAdd(c1b, x1, Avx.LoadVector256((sbyte*)q1 + 32));
            c2a = AvxVnni.MultiplyWideningAndAdd(c2a, x2, Avx.LoadVector256((sbyte*)q2));
            c2b = AvxVnni.MultiplyWideningAndAdd(c2b, x2, Avx.LoadVector256((sbyte*)q2 + 32));
            c3a = AvxVnni.MultiplyWideningAndAdd(c3a, x3, Avx.LoadVector256((sbyte*)q3));
            c3b = AvxVnni.MultiplyWideningAndAdd(c3b, x3, Avx.LoadVector256((sbyte*)q3 + 32));
            kk += 4 * sets;
            q0 += 64 * sets; q1 += 64 * sets; q2 += 64 * sets; q3 += 64 * sets;
        }
        // Whole k-groups left over (fewer than 4/P), then the last 1..3 k: first k-group set only.
        int left = k - kk;
        while (left > 0)
        {
            var x = left >= 4
                ? QGemm6x16AvxVnni.Broadcast<TSigned>(a + kk, flip)
                : Flip<TSigned>(Vector256.Create(QGemm6x16AvxVnni.LoadTail(a + kk, left)).AsByte(), flip);
            c0a = AvxVnni.MultiplyWideningAndAdd(c0a, x, Avx.LoadVector256((sbyte*)q0));
            c0b = AvxVnni.MultiplyWideningAndAdd(c0b, x, Avx.LoadVector256((sbyte*)q0 + 32));
            if (p >= 2)
            {
                c1a = AvxVnni.MultiplyWideningAndAdd(c1a, x, Avx.LoadVector256((sbyte*)q1));
                c1b = AvxVnni.MultiplyWideningAndAdd(c1b, x, Avx.LoadVector256((sbyte*)q1 + 32));
            }
            if (p == 4)
            {
                c2a = AvxVnni.MultiplyWideningAndAdd(c2a, x, Avx.LoadVector256((sbyte*)q2));
                c2b = AvxVnni.MultiplyWideningAndAdd(c2b, x, Avx.LoadVector256((sbyte*)q2 + 32));
                c3a = AvxVnni.MultiplyWideningAndAdd(c3a, x, Avx.LoadVector256((sbyte*)q3));
                c3b = AvxVnni.MultiplyWideningAndAdd(c3b, x, Avx.LoadVector256((sbyte*)q3 + 32));
            }
            kk += 4;
            left -= 4;
            q0 += 64; q1 += 64; q2 += 64; q3 += 64;
        }
        if (p == 4)
        {
            c0a.Store(acc); c0b.Store(acc + 8); c1a.Store(acc + 16); c1b.Store(acc + 24);
            c2a.Store(acc + 32); c2b.Store(acc + 40); c3a.Store(acc + 48); c3b.Store(acc + 56);
        }
        else if (p == 2)
        {
            Avx2.Add(c0a, c2a).Store(acc); Avx2.Add(c0b, c2b).Store(acc + 8);
            Avx2.Add(c1a, c3a).Store(acc + 16); Avx2.Add(c1b, c3b).Store(acc + 24);
        }
        else
        {
            Avx2.Add(Avx2.Add(c0a, c1a), Avx2.Add(c2a, c3a)).Store(acc);
            Avx2.Add(Avx2.Add(c0b, c1b), Avx2.Add(c2b, c3b)).Store(acc + 8);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<byte> Flip<TSigned>(Vector256<byte> x, Vector256<byte> flip) where TSigned : struct, IFlag =>
        TSigned.Value ? Avx2.Xor(x, flip) : x;
}
