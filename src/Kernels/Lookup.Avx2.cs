using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// 256-entry table lookup for x86. AVX2: sixteen VPSHUFB over 16-entry slices; for slice j the index
/// <c>adds_epu8(x - 16j, 0x70)</c> keeps bit 7 clear only when x falls in the slice (its low nibble is
/// unchanged), so VPSHUFB yields the entry there and 0 elsewhere, and the sixteen results are OR-ed.
/// AVX-512 with VBMI: two VPERMI2B (128 entries each) and a blend on bit 7 translate 64 bytes.
/// </summary>
internal static unsafe class LookupAvx2
{
    public static void Run(byte* table, byte* x, byte* y, nint n)
    {
        Vector256<byte> bias = Vector256.Create((byte)0x70), sixteen = Vector256.Create((byte)16);
        nint i = 0;
        for (; i + 32 <= n; i += 32)
        {
            Vector256<byte> w = Avx.LoadVector256(x + i);
            Vector256<byte> r = Vector256<byte>.Zero;
            for (int j = 0; j < 16; j++)
            {
                Vector256<byte> slice = Avx2.BroadcastVector128ToVector256(table + 16 * j);
                r = Avx2.Or(r, Avx2.Shuffle(slice, Avx2.AddSaturate(w, bias)));
                w = Avx2.Subtract(w, sixteen);
            }
            Avx.Store(y + i, r);
        }
        LookupScalar.Run(table, x + i, y + i, n - i);
    }

    public static void RunVbmi(byte* table, byte* x, byte* y, nint n)
    {
        Vector512<byte> t0 = Avx512F.LoadVector512(table), t1 = Avx512F.LoadVector512(table + 64);
        Vector512<byte> t2 = Avx512F.LoadVector512(table + 128), t3 = Avx512F.LoadVector512(table + 192);
        nint i = 0;
        for (; i + 64 <= n; i += 64)
        {
            Vector512<byte> idx = Avx512F.LoadVector512(x + i);
            Vector512<byte> low = Avx512Vbmi.PermuteVar64x8x2(t0, idx, t1);
            Vector512<byte> high = Avx512Vbmi.PermuteVar64x8x2(t2, idx, t3);
            Vector512<byte> upperHalf = Vector512.LessThan(idx.AsSByte(), Vector512<sbyte>.Zero).AsByte();
            Avx512F.Store(y + i, Vector512.ConditionalSelect(upperHalf, high, low));
        }
        Run(table, x + i, y + i, n - i);
    }
}
