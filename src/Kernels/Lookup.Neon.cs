using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeAgent.Kernels;

/// <summary>
/// 256-entry table lookup for NEON: the table sits in 16 Q registers as four 64-byte groups; one TBL on the
/// first group and three TBX on the others (index minus 64, 128, 192 — out-of-range lanes keep what they have)
/// translate 16 bytes, and two such chains run per step.
/// </summary>
internal static unsafe class LookupNeon
{
    public static void Run(byte* table, byte* x, byte* y, nint n)
    {
        var t0 = (AdvSimd.LoadVector128(table), AdvSimd.LoadVector128(table + 16), AdvSimd.LoadVector128(table + 32), AdvSimd.LoadVector128(table + 48));
        var t1 = (AdvSimd.LoadVector128(table + 64), AdvSimd.LoadVector128(table + 80), AdvSimd.LoadVector128(table + 96), AdvSimd.LoadVector128(table + 112));
        var t2 = (AdvSimd.LoadVector128(table + 128), AdvSimd.LoadVector128(table + 144), AdvSimd.LoadVector128(table + 160), AdvSimd.LoadVector128(table + 176));
        var t3 = (AdvSimd.LoadVector128(table + 192), AdvSimd.LoadVector128(table + 208), AdvSimd.LoadVector128(table + 224), AdvSimd.LoadVector128(table + 240));
        Vector128<byte> step = Vector128.Create((byte)64);
        nint i = 0;
        for (; i + 32 <= n; i += 32)
        {
            Vector128<byte> a = AdvSimd.LoadVector128(x + i), b = AdvSimd.LoadVector128(x + i + 16);
            Vector128<byte> ra = AdvSimd.Arm64.VectorTableLookup(t0, a), rb = AdvSimd.Arm64.VectorTableLookup(t0, b);
            a = AdvSimd.Subtract(a, step); b = AdvSimd.Subtract(b, step);
            ra = AdvSimd.Arm64.VectorTableLookupExtension(ra, t1, a); rb = AdvSimd.Arm64.VectorTableLookupExtension(rb, t1, b);
            a = AdvSimd.Subtract(a, step); b = AdvSimd.Subtract(b, step);
            ra = AdvSimd.Arm64.VectorTableLookupExtension(ra, t2, a); rb = AdvSimd.Arm64.VectorTableLookupExtension(rb, t2, b);
            a = AdvSimd.Subtract(a, step); b = AdvSimd.Subtract(b, step);
            ra = AdvSimd.Arm64.VectorTableLookupExtension(ra, t3, a); rb = AdvSimd.Arm64.VectorTableLookupExtension(rb, t3, b);
            AdvSimd.Store(y + i, ra);
            AdvSimd.Store(y + i + 16, rb);
        }
        for (; i + 16 <= n; i += 16)
        {
            Vector128<byte> a = AdvSimd.LoadVector128(x + i);
            Vector128<byte> r = AdvSimd.Arm64.VectorTableLookup(t0, a);
            a = AdvSimd.Subtract(a, step);
            r = AdvSimd.Arm64.VectorTableLookupExtension(r, t1, a);
            a = AdvSimd.Subtract(a, step);
            r = AdvSimd.Arm64.VectorTableLookupExtension(r, t2, a);
            a = AdvSimd.Subtract(a, step);
            r = AdvSimd.Arm64.VectorTableLookupExtension(r, t3, a);
            AdvSimd.Store(y + i, r);
        }
        LookupScalar.Run(table, x + i, y + i, n - i);
    }
}
