using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Kernels;

/// <summary>
/// QLinearAdd/QLinearMul rows for AVX2, 16 elements per step: VPMOVZXBD/VPMOVSXBD, subtract the zero point,
/// VCVTDQ2PS and VMULPS per input (VPMULLD first for Mul), VADDPS, then the shared requantization. A scalar
/// operand (stride 0) is turned into its float term once; the tail runs the scalar arithmetic.
/// </summary>
internal static unsafe class QLinearBinaryAvx2
{
    public static void Row<T>(in QLinearBinaryConstants k, T* a, T* b, T* c, int length, int aStride, int bStride) where T : unmanaged
    {
        if ((aStride | bStride) == 0 || length < 16)
        {
            QLinearBinaryScalar.Row(k, a, b, c, length, aStride, bStride);
            return;
        }
        Vector256<int> za = Vector256.Create(k.Za), zb = Vector256.Create(k.Zb), zc = Vector256.Create(k.Zc);
        Vector256<float> ma = Vector256.Create(k.MulA), mb = Vector256.Create(k.MulB);
        Vector256<float> lo = Vector256.Create(k.Lo), hi = Vector256.Create(k.Hi);
        int i = 0;
        if (k.Op == QLinearBinaryOp.Add)
        {
            // A broadcast operand contributes the same float term to every element.
            Vector256<float> fa = aStride == 0 ? Vector256.Create((float)(Int8.Load(a) - k.Za) * k.MulA) : default;
            Vector256<float> fb = bStride == 0 ? Vector256.Create((float)(Int8.Load(b) - k.Zb) * k.MulB) : default;
            for (; i + 16 <= length; i += 16)
            {
                Vector256<float> a0 = aStride == 0 ? fa : Term(a + i, za, ma), a1 = aStride == 0 ? fa : Term(a + i + 8, za, ma);
                Vector256<float> b0 = bStride == 0 ? fb : Term(b + i, zb, mb), b1 = bStride == 0 ? fb : Term(b + i + 8, zb, mb);
                RequantizationAvx2.Store16(c + i,
                    RequantizationAvx2.RequantizeFloat(Avx.Add(a0, b0), lo, hi, zc),
                    RequantizationAvx2.RequantizeFloat(Avx.Add(a1, b1), lo, hi, zc));
            }
        }
        else
        {
            Vector256<int> da = aStride == 0 ? Vector256.Create(Int8.Load(a) - k.Za) : default;
            Vector256<int> db = bStride == 0 ? Vector256.Create(Int8.Load(b) - k.Zb) : default;
            for (; i + 16 <= length; i += 16)
            {
                Vector256<int> a0 = aStride == 0 ? da : Centered(a + i, za), a1 = aStride == 0 ? da : Centered(a + i + 8, za);
                Vector256<int> b0 = bStride == 0 ? db : Centered(b + i, zb), b1 = bStride == 0 ? db : Centered(b + i + 8, zb);
                RequantizationAvx2.Store16(c + i,
                    RequantizationAvx2.Requantize(Avx2.MultiplyLow(a0, b0), ma, lo, hi, zc),
                    RequantizationAvx2.Requantize(Avx2.MultiplyLow(a1, b1), ma, lo, hi, zc));
            }
        }
        QLinearBinaryScalar.Row(k, a + i * aStride, b + i * bStride, c + i, length - i, aStride, bStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Centered<T>(T* p, Vector256<int> zp) where T : unmanaged =>
        Avx2.Subtract(RequantizationAvx2.Load8Widen(p), zp);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Term<T>(T* p, Vector256<int> zp, Vector256<float> m) where T : unmanaged =>
        Avx.Multiply(Avx.ConvertToVector256Single(Centered(p, zp)), m);
}
