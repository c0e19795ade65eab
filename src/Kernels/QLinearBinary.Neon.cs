using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;

namespace EdgeAgent.Kernels;

/// <summary>
/// QLinearAdd/QLinearMul rows for NEON, 16 elements per step: USUBL/SSUBL against the zero point (exact in
/// int16), then for Add SXTL + SCVTF + FMUL per input and FADD; for Mul SMULL/SMULL2 (exact in int32) + SCVTF +
/// FMUL; then the shared requantization. A scalar operand (stride 0) is turned into its term once; the tail runs
/// the scalar arithmetic.
/// </summary>
internal static unsafe class QLinearBinaryNeon
{
    public static void Row<T>(in QLinearBinaryConstants k, T* a, T* b, T* c, int length, int aStride, int bStride) where T : unmanaged
    {
        if ((aStride | bStride) == 0 || length < 16)
        {
            QLinearBinaryScalar.Row(k, a, b, c, length, aStride, bStride);
            return;
        }
        Vector128<byte> za = RequantizationNeon.ZeroPointBytes(k.Za), zb = RequantizationNeon.ZeroPointBytes(k.Zb);
        Vector128<int> zc = Vector128.Create(k.Zc);
        Vector128<float> ma = Vector128.Create(k.MulA), mb = Vector128.Create(k.MulB);
        Vector128<float> lo = Vector128.Create(k.Lo), hi = Vector128.Create(k.Hi);
        int i = 0;
        if (k.Op == QLinearBinaryOp.Add)
        {
            Vector128<float> fa = aStride == 0 ? Vector128.Create((float)(Int8.Load(a) - k.Za) * k.MulA) : default;
            Vector128<float> fb = bStride == 0 ? Vector128.Create((float)(Int8.Load(b) - k.Zb) * k.MulB) : default;
            for (; i + 16 <= length; i += 16)
            {
                Vector128<float> a0 = fa, a1 = fa, a2 = fa, a3 = fa, b0 = fb, b1 = fb, b2 = fb, b3 = fb;
                if (aStride != 0) Terms(a + i, za, ma, out a0, out a1, out a2, out a3);
                if (bStride != 0) Terms(b + i, zb, mb, out b0, out b1, out b2, out b3);
                RequantizationNeon.Store16(c + i,
                    RequantizationNeon.RequantizeFloat(AdvSimd.Add(a0, b0), lo, hi, zc),
                    RequantizationNeon.RequantizeFloat(AdvSimd.Add(a1, b1), lo, hi, zc),
                    RequantizationNeon.RequantizeFloat(AdvSimd.Add(a2, b2), lo, hi, zc),
                    RequantizationNeon.RequantizeFloat(AdvSimd.Add(a3, b3), lo, hi, zc));
            }
        }
        else
        {
            Vector128<short> da = aStride == 0 ? Vector128.Create((short)(Int8.Load(a) - k.Za)) : default;
            Vector128<short> db = bStride == 0 ? Vector128.Create((short)(Int8.Load(b) - k.Zb)) : default;
            for (; i + 16 <= length; i += 16)
            {
                Vector128<short> al = da, ah = da, bl = db, bh = db;
                if (aStride != 0) RequantizationNeon.Load16MinusZeroPoint(a + i, za, out al, out ah);
                if (bStride != 0) RequantizationNeon.Load16MinusZeroPoint(b + i, zb, out bl, out bh);
                RequantizationNeon.Store16(c + i,
                    RequantizationNeon.Requantize(AdvSimd.MultiplyWideningLower(al.GetLower(), bl.GetLower()), ma, lo, hi, zc),
                    RequantizationNeon.Requantize(AdvSimd.MultiplyWideningUpper(al, bl), ma, lo, hi, zc),
                    RequantizationNeon.Requantize(AdvSimd.MultiplyWideningLower(ah.GetLower(), bh.GetLower()), ma, lo, hi, zc),
                    RequantizationNeon.Requantize(AdvSimd.MultiplyWideningUpper(ah, bh), ma, lo, hi, zc));
            }
        }
        QLinearBinaryScalar.Row(k, a + i * aStride, b + i * bStride, c + i, length - i, aStride, bStride);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Terms<T>(T* p, Vector128<byte> zp, Vector128<float> m,
        out Vector128<float> t0, out Vector128<float> t1, out Vector128<float> t2, out Vector128<float> t3) where T : unmanaged
    {
        RequantizationNeon.Load16MinusZeroPoint(p, zp, out var low, out var high);
        t0 = AdvSimd.Multiply(AdvSimd.ConvertToSingle(AdvSimd.SignExtendWideningLower(low.GetLower())), m);
        t1 = AdvSimd.Multiply(AdvSimd.ConvertToSingle(AdvSimd.SignExtendWideningUpper(low)), m);
        t2 = AdvSimd.Multiply(AdvSimd.ConvertToSingle(AdvSimd.SignExtendWideningLower(high.GetLower())), m);
        t3 = AdvSimd.Multiply(AdvSimd.ConvertToSingle(AdvSimd.SignExtendWideningUpper(high)), m);
    }
}
