using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// AVX2 path: 4 rows x 16 columns, c2 layout with weights pre-widened to s16 at packing. VPMADDUBSW
/// would saturate (255 * 127 * 2 > 32767), so activations are widened to s16 too and VPMADDWD multiplies
/// 16 s16 pairs into 8 int32 pair sums, exact for any data: 16 MACs per VPMADDWD + VPADDD.
/// </summary>
internal unsafe struct QGemm4x16Avx2 : IQGemmMicrokernel
{
    // Activations are widened to s16 this many k at a time into a stack buffer (whole pairs, zero-padded).
    private const int Kc = 512;

    public static int Mr => 4;
    public static int Nr => 16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    [SkipLocalsInit]
    public static void Tile<TRows, TSigned>(byte* a, nint lda, int k, byte* b, int* acc)
        where TRows : struct, IRowCount where TSigned : struct, IFlag
    {
        short* aw = stackalloc short[4 * Kc];
        Vector256<int> c00 = default, c01 = default;
        Vector256<int> c10 = default, c11 = default;
        Vector256<int> c20 = default, c21 = default;
        Vector256<int> c30 = default, c31 = default;
        byte* a0 = a + 0 * lda;
        byte* a1 = a + 1 * lda;
        byte* a2 = a + 2 * lda;
        byte* a3 = a + 3 * lda;
        for (int kc = 0; kc < k; kc += Kc)
        {
            int len = Math.Min(Kc, k - kc);
            WideActivations.Widen<TSigned>(a0 + kc, aw + 0 * Kc, len);
            if (TRows.Value > 1)
            {
                WideActivations.Widen<TSigned>(a1 + kc, aw + 1 * Kc, len);
            }
            if (TRows.Value > 2)
            {
                WideActivations.Widen<TSigned>(a2 + kc, aw + 2 * Kc, len);
            }
            if (TRows.Value > 3)
            {
                WideActivations.Widen<TSigned>(a3 + kc, aw + 3 * Kc, len);
            }
            for (int i = 0; i < len; i += 2)
            {
                var b0 = Vector256.Load((short*)b);
                var b1 = Vector256.Load((short*)b + 16);
                b += 64;
                // Two rows' multiplies, then their adds (fits 16 ymm registers; see src/Kernels/README.md).
                var x0 = Vector256.Create(*(int*)(aw + 0 * Kc + i)).AsInt16();
                var t00 = Avx2.MultiplyAddAdjacent(x0, b0);
                var t01 = Avx2.MultiplyAddAdjacent(x0, b1);
                if (TRows.Value > 1)
                {
                    var x1 = Vector256.Create(*(int*)(aw + 1 * Kc + i)).AsInt16();
                    var t10 = Avx2.MultiplyAddAdjacent(x1, b0);
                    var t11 = Avx2.MultiplyAddAdjacent(x1, b1);
                    c10 += t10; c11 += t11;
                }
                c00 += t00; c01 += t01;
                if (TRows.Value > 2)
                {
                    var x2 = Vector256.Create(*(int*)(aw + 2 * Kc + i)).AsInt16();
                    var t20 = Avx2.MultiplyAddAdjacent(x2, b0);
                    var t21 = Avx2.MultiplyAddAdjacent(x2, b1);
                    if (TRows.Value > 3)
                    {
                        var x3 = Vector256.Create(*(int*)(aw + 3 * Kc + i)).AsInt16();
                        var t30 = Avx2.MultiplyAddAdjacent(x3, b0);
                        var t31 = Avx2.MultiplyAddAdjacent(x3, b1);
                        c30 += t30; c31 += t31;
                    }
                    c20 += t20; c21 += t21;
                }
            }
        }
        c00.Store(acc + 0); c01.Store(acc + 8);
        if (TRows.Value > 1)
        {
            c10.Store(acc + 16); c11.Store(acc + 24);
        }
        if (TRows.Value > 2)
        {
            c20.Store(acc + 32); c21.Store(acc + 40);
        }
        if (TRows.Value > 3)
        {
            c30.Store(acc + 48); c31.Store(acc + 56);
        }
    }
}

internal static unsafe class WideActivations
{
    /// <summary>Widens <paramref name="len"/> activations to s16 (sign- or zero-extended), zero-padding to a whole pair.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Widen<TSigned>(byte* src, short* dst, int len) where TSigned : struct, IFlag
    {
        int i = 0;
        for (; i + 16 <= len; i += 16)
        {
            var v = TSigned.Value
                ? Avx2.ConvertToVector256Int16(Vector128.Load((sbyte*)src + i))
                : Avx2.ConvertToVector256Int16(Vector128.Load(src + i));
            v.Store(dst + i);
        }
        for (; i < len; i++) dst[i] = TSigned.Value ? (sbyte)src[i] : src[i];
        if ((len & 1) != 0) dst[len] = 0;
    }

    /// <summary>As <see cref="Widen{TSigned}"/>, 32 activations per step with AVX-512BW (callers check it).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void WidenPadded<TSigned>(byte* src, short* dst, int len) where TSigned : struct, IFlag
    {
        int i = 0;
        for (; i + 32 <= len; i += 32)
        {
            var v = TSigned.Value
                ? Avx512BW.ConvertToVector512Int16(Vector256.Load((sbyte*)src + i))
                : Avx512BW.ConvertToVector512Int16(Vector256.Load(src + i));
            v.Store(dst + i);
        }
        Widen<TSigned>(src + i, dst + i, len - i);
    }
}
