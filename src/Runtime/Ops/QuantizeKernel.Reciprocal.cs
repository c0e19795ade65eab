using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace EdgeAgent.Runtime.Ops;

/// <summary>Which forms <see cref="QuantizeKernel.QuantizeToNhwc(ReadOnlySpan{float}, float, int, Span{byte}, bool, int, int, QuantizePaths)"/> may use.</summary>
[Flags]
internal enum QuantizePaths
{
    /// <summary>Division and 16-pixel vectors only.</summary>
    ExactOnly = 0,
    /// <summary>The 64-pixel AVX-512 forms where the CPU has them.</summary>
    Wide = 1,
    /// <summary>Multiplication by the reciprocal, checked (see <see cref="QuantizeKernel.ReciprocalParameters"/>).</summary>
    Reciprocal = 2,
    All = Wide | Reciprocal,
}

internal sealed partial class QuantizeKernel
{
    /// <summary>
    /// QuantizeLinear's <c>round(x / scale)</c> as <c>x · r</c> with <c>r = RN(1 / scale)</c>: a division costs about
    /// ten multiplications' worth of throughput and was most of this kernel's time. The product is not always the
    /// correctly rounded quotient, so it is only used where it cannot change the integer. With
    /// <c>q = RN(x · r)</c> and <c>Q = RN(x / scale)</c> (what the definition rounds):
    /// <c>|q − Q| ≤ |x/scale| (2^-24 + 2^-24 + 2^-24 + 2^-48) + 2^-150 &lt; 2^-22 (M + 2) = D</c> whenever
    /// <c>|x/scale| ≤ M + 1</c>, where <c>[−M, M]</c> holds the clamp bounds minus the zero point (one rounding for
    /// r, one for the product, one for Q). So if <c>|q − RNE(q)| ≤ 0.5 − D</c>, Q lies strictly inside the same
    /// rounding interval as q and <c>RNE(Q) = RNE(q)</c>, ties included (Q is never within D of a half-integer
    /// then). Past the bounds both saturate alike: if q is above <c>M</c>, Q is above <c>M − D &gt; M − 0.5</c>.
    /// Lanes that fail the test (about 2·D of uniformly spread fractions, NaN; infinities on the 128-bit path)
    /// send their whole block back to the division. Used when scale and 1/scale are normal numbers (no underflow in the bound).
    /// </summary>
    internal readonly struct ReciprocalParameters
    {
        public readonly float Reciprocal, Tolerance, Low, High, Limit, ZeroPoint;

        public ReciprocalParameters(float scale, int zeroPoint, bool signed)
        {
            Reciprocal = 1f / scale;
            Low = (signed ? -128 : 0) - zeroPoint;
            High = (signed ? 127 : 255) - zeroPoint;
            Limit = MathF.Max(MathF.Abs(Low), MathF.Abs(High));
            Tolerance = 0.5f - MathF.ScaleB(Limit + 2, -22);
            ZeroPoint = zeroPoint;
        }

        /// <summary>Whether the error bound above holds for this scale.</summary>
        public static bool Usable(float scale) => float.IsNormal(scale) && float.IsNormal(1f / scale);
    }

    /// <summary>
    /// RGB, 64 pixels per step (AVX-512 VBMI and DQ): per 16 values one multiply, VREDUCEPS (q − RNE(q)), an AND and a
    /// VPMAXSD for the check, VRANGEPS for the bound and VCVTPS2DQ (round to nearest even); two VPACKSSDW, two adds of
    /// the zero point and one VPACKUSWB or VPACKSSWB per 64 values; the interleave's permutes undo the packs' lane
    /// order. 7.7 µs for 224x224 against 14.2 µs with the division (in cache, one thread).
    /// </summary>
    private static class Rgb64Reciprocal
    {
        /// <summary>Quantizes pixels <paramref name="p0"/>.. in steps of 64; returns the first pixel not done.</summary>
        public static int Run(ref float src, ref byte dst, int p0, int pixels, in ReciprocalParameters rp, in Parameters exact, bool signed)
        {
            while (true)
            {
                p0 = RunUntilDoubtful(ref src, ref dst, p0, pixels, rp, signed);
                if (p0 + 64 > pixels) return p0;
                Exact(ref Unsafe.Add(ref src, p0), pixels, exact, ref Unsafe.Add(ref dst, 3 * p0));
                p0 += 64;
            }
        }

        /// <summary>
        /// The fast loop, up to the first block with a doubtful lane (returned, not stored). It calls nothing, so the
        /// constants, the nine permute tables and the three channels stay in the 32 zmm registers.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        private static int RunUntilDoubtful(ref float src, ref byte dst, int p0, int pixels, in ReciprocalParameters rp, bool signed)
        {
            var r = Vector512.Create(rp.Reciprocal);
            var tolerance = Vector512.Create(BitConverter.SingleToInt32Bits(rp.Tolerance));
            var limit = Vector512.Create(rp.Limit);
            var zeroPoint = Vector512.Create((short)rp.ZeroPoint);
            var t = Interleave3x64.PackedTables;
            var pair0 = t[0]; var third0 = t[1]; var mask0 = t[2];
            var pair1 = t[3]; var third1 = t[4]; var mask1 = t[5];
            var pair2 = t[6]; var third2 = t[7]; var mask2 = t[8];
            for (; p0 + 64 <= pixels; p0 += 64)
            {
                ref float s0 = ref Unsafe.Add(ref src, p0);
                var doubtful = Vector512<int>.Zero;
                var a = Channel(ref s0, r, limit, zeroPoint, signed, ref doubtful);
                var b = Channel(ref Unsafe.Add(ref s0, pixels), r, limit, zeroPoint, signed, ref doubtful);
                var c = Channel(ref Unsafe.Add(ref s0, 2 * pixels), r, limit, zeroPoint, signed, ref doubtful);
                if (!Vector512.LessThanOrEqualAll(doubtful, tolerance)) break;
                ref byte d = ref Unsafe.Add(ref dst, 3 * p0);
                Vector512.ConditionalSelect(mask0, Avx512Vbmi.PermuteVar64x8(c, third0), Avx512Vbmi.PermuteVar64x8x2(a, pair0, b)).StoreUnsafe(ref d);
                Vector512.ConditionalSelect(mask1, Avx512Vbmi.PermuteVar64x8(c, third1), Avx512Vbmi.PermuteVar64x8x2(a, pair1, b)).StoreUnsafe(ref d, 64);
                Vector512.ConditionalSelect(mask2, Avx512Vbmi.PermuteVar64x8(c, third2), Avx512Vbmi.PermuteVar64x8x2(a, pair2, b)).StoreUnsafe(ref d, 128);
            }
            return p0;
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void Exact(ref float s0, int pixels, in Parameters exact, ref byte d) =>
            Interleave3x64.Store(SixtyFour(ref s0, exact), SixtyFour(ref Unsafe.Add(ref s0, pixels), exact),
                SixtyFour(ref Unsafe.Add(ref s0, 2 * pixels), exact), ref d);

        /// <summary>64 values of one channel, in the packs' order (see <see cref="Interleave3x64.PackedPosition"/>).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<byte> Channel(ref float s, Vector512<float> r, Vector512<float> limit, Vector512<short> zeroPoint, bool signed,
            ref Vector512<int> doubtful)
        {
            var w0 = Avx512BW.PackSignedSaturate(Sixteen(ref s, r, limit, ref doubtful), Sixteen(ref Unsafe.Add(ref s, 16), r, limit, ref doubtful));
            var w1 = Avx512BW.PackSignedSaturate(Sixteen(ref Unsafe.Add(ref s, 32), r, limit, ref doubtful),
                Sixteen(ref Unsafe.Add(ref s, 48), r, limit, ref doubtful));
            // |n| <= limit <= 256: no int16 overflow; the byte packs then saturate to [lo, hi] exactly.
            w0 += zeroPoint;
            w1 += zeroPoint;
            return signed ? Avx512BW.PackSignedSaturate(w0, w1).AsByte() : Avx512BW.PackUnsignedSaturate(w0, w1);
        }

        /// <summary>
        /// 16 values rounded to int32 within ±limit (VRANGEPS 0b0010: the smaller magnitude with the value's sign;
        /// the range rounds the same either side of it); folds their largest distance from an integer into
        /// <paramref name="doubtful"/> as int32 bits, which order like the floats and put a NaN above them all
        /// (VRANGEPS and VMAXPS would drop a NaN). The fraction is taken before the bound: an infinity's is 0 and
        /// the bound then saturates it correctly, a NaN's is NaN and sends the block to the division.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<int> Sixteen(ref float s, Vector512<float> r, Vector512<float> limit, ref Vector512<int> doubtful)
        {
            var q = Vector512.LoadUnsafe(ref s) * r;
            doubtful = Vector512.Max(doubtful, Vector512.Abs(Avx512DQ.Reduce(q, 0)).AsInt32());
            return Avx512F.ConvertToVector512Int32(Avx512DQ.Range(q, limit, 0b0010));
        }
    }

    /// <summary>RGB, 16 pixels per step, Vector128 (NEON, or x86 without AVX-512): the same check four lanes at a time.</summary>
    private static class SixteenReciprocal
    {
        /// <summary>The three channels' bytes of 16 pixels, or false if a lane needs the division.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static bool TryRgb(ref float s0, int pixels, in ReciprocalParameters rp,
            out Vector128<byte> a, out Vector128<byte> b, out Vector128<byte> c)
        {
            var doubtful = Vector128<int>.Zero;
            a = Sixteen(ref s0, rp, ref doubtful);
            b = Sixteen(ref Unsafe.Add(ref s0, pixels), rp, ref doubtful);
            c = Sixteen(ref Unsafe.Add(ref s0, 2 * pixels), rp, ref doubtful);
            return Vector128.LessThanOrEqualAll(doubtful, Vector128.Create(BitConverter.SingleToInt32Bits(rp.Tolerance)));
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<byte> Sixteen(ref float s, in ReciprocalParameters rp, ref Vector128<int> doubtful)
        {
            var a = Four(Vector128.LoadUnsafe(ref s), rp, ref doubtful);
            var b = Four(Vector128.LoadUnsafe(ref s, 4), rp, ref doubtful);
            var c = Four(Vector128.LoadUnsafe(ref s, 8), rp, ref doubtful);
            var d = Four(Vector128.LoadUnsafe(ref s, 12), rp, ref doubtful);
            // Values already in [lo, hi]: the plain narrowing is exact.
            return Vector128.Narrow(Vector128.Narrow(a, b), Vector128.Narrow(c, d)).AsByte();
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector128<int> Four(Vector128<float> x, in ReciprocalParameters rp, ref Vector128<int> doubtful)
        {
            var q = x * Vector128.Create(rp.Reciprocal);
            var n = Vector128.Round(q);
            // The running maximum of |q - n| as int32 bits: ordered like the floats, and a NaN's bits above them all.
            doubtful = Vector128.Max(doubtful, Vector128.Abs(q - n).AsInt32());
            n = Vector128.MinNative(Vector128.MaxNative(n, Vector128.Create(rp.Low)), Vector128.Create(rp.High));
            return Vector128.ConvertToInt32Native(n + Vector128.Create(rp.ZeroPoint));
        }
    }
}
