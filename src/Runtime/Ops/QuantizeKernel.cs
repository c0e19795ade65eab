using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>
/// Per-tensor QuantizeLinear of float to 8 bits: <c>saturate(round-half-even(x / scale) + zero point)</c>, NaN → zero
/// point. When the only reader is an int8 convolution that works in NHWC, the planner asks it to write NHWC, and
/// it quantizes and moves channels innermost in one pass, so the image is never transposed separately (RGB with
/// AVX-512 VBMI: 64 pixels per step, two byte permutes and a blend per 64 output bytes; on ARM64 16 pixels per ST3).
/// RGB multiplies by the reciprocal of the scale where that provably gives the division's integer and falls back
/// to the division per block where it might not (<see cref="ReciprocalParameters"/>).
/// </summary>
internal sealed partial class QuantizeKernel : OpKernel, Execution.INhwcKernel
{
    private readonly bool _signed;
    private readonly int _batch, _channels, _pixels;
    private bool _writeNhwc;

    public QuantizeKernel(bool signed, int[] shape)
    {
        _signed = signed;
        if (shape.Length >= 3)
        {
            _batch = shape[0];
            _channels = shape[1];
            _pixels = 1;
            for (int d = 2; d < shape.Length; d++) _pixels *= shape[d];
        }
    }

    public override string Path => (_signed ? "quantize.f32-s8" : "quantize.f32-u8") + (_writeNhwc ? "-nhwc" : "");

    public bool CanReadNhwc => false;
    public bool CanWriteNhwc => _channels > 0;
    public void ReadNhwc() => throw new InvalidOperationException("QuantizeLinear reads float NCHW only");
    public void WriteNhwc() => _writeNhwc = true;

    public override void Run(Tensor?[] inputs, Tensor[] outputs)
    {
        var x = inputs[0]!.Span<float>();
        float scale = inputs[1]!.Span<float>()[0];
        int zeroPoint = inputs.Length > 2 && inputs[2] is { } z ? (int)z.GetInt64(0) : 0;
        var y = outputs[0].Bytes;
        if (!_writeNhwc || _channels == 1 || _pixels == 1) { Quantize(x, scale, zeroPoint, y, _signed); return; }
        int image = _channels * _pixels;
        for (int n = 0; n < _batch; n++)
            QuantizeToNhwc(x.Slice(n * image, image), scale, zeroPoint, y.Slice(n * image, image), _signed, _channels, _pixels);
    }

    /// <summary>Quantizes <paramref name="x"/> element by element into <paramref name="y"/>.</summary>
    public static void Quantize(ReadOnlySpan<float> x, float scale, int zeroPoint, Span<byte> y, bool signed)
    {
        y = y[..x.Length];
        int e = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var p = new Parameters(scale, zeroPoint, signed);
            ref float src = ref MemoryMarshal.GetReference(x);
            ref byte dst = ref MemoryMarshal.GetReference(y);
            for (; e + 16 <= x.Length; e += 16) Sixteen(ref Unsafe.Add(ref src, e), p).StoreUnsafe(ref dst, (nuint)e);
        }
        for (; e < x.Length; e++) y[e] = One(x[e], scale, zeroPoint, signed);
    }

    /// <summary>[C][P] floats → [P][C] 8-bit values: sixteen pixels of every channel at a time, then interleaved.</summary>
    internal static void QuantizeToNhwc(ReadOnlySpan<float> x, float scale, int zeroPoint, Span<byte> y, bool signed, int channels, int pixels) =>
        QuantizeToNhwc(x, scale, zeroPoint, y, signed, channels, pixels, QuantizePaths.All);

    /// <summary>
    /// The same with some paths turned off (<paramref name="paths"/>), so the checks reach every path on one machine:
    /// the 64-pixel AVX-512 forms, the reciprocal forms, and the exact division they fall back to.
    /// </summary>
    internal static unsafe void QuantizeToNhwc(ReadOnlySpan<float> x, float scale, int zeroPoint, Span<byte> y, bool signed, int channels, int pixels,
        QuantizePaths paths)
    {
        if (x.Length < channels * pixels || y.Length < channels * pixels)
            throw new ArgumentException($"QuantizeLinear NHWC: {channels} x {pixels} values need {channels * pixels} inputs and outputs, got {x.Length} and {y.Length}");
        int p0 = 0;
        if (Vector128.IsHardwareAccelerated)
        {
            var p = new Parameters(scale, zeroPoint, signed);
            bool reciprocal = (paths & QuantizePaths.Reciprocal) != 0 && ReciprocalParameters.Usable(scale);
            var rp = new ReciprocalParameters(scale, zeroPoint, signed);
            ref float src = ref MemoryMarshal.GetReference(x);
            ref byte dst = ref MemoryMarshal.GetReference(y);
            if (channels == 3)
            {
                if (Avx512Vbmi.IsSupported && Avx512DQ.IsSupported && (paths & QuantizePaths.Wide) != 0)
                {
                    if (reciprocal) p0 = Rgb64Reciprocal.Run(ref src, ref dst, p0, pixels, rp, p, signed);
                    for (; p0 + 64 <= pixels; p0 += 64)
                    {
                        ref float s0 = ref Unsafe.Add(ref src, p0);
                        ref byte d = ref Unsafe.Add(ref dst, 3 * p0);
                        var a = SixtyFour(ref s0, p);
                        var b = SixtyFour(ref Unsafe.Add(ref s0, pixels), p);
                        var c = SixtyFour(ref Unsafe.Add(ref s0, 2 * pixels), p);
                        Interleave3x64.Store(a, b, c, ref d);
                    }
                }
                fixed (byte* pinned = y)
                {
                    for (; p0 + 16 <= pixels; p0 += 16)
                    {
                        ref float s0 = ref Unsafe.Add(ref src, p0);
                        Vector128<byte> a, b, c;
                        if (!reciprocal || !SixteenReciprocal.TryRgb(ref s0, pixels, rp, out a, out b, out c))
                        {
                            a = Sixteen(ref s0, p);
                            b = Sixteen(ref Unsafe.Add(ref s0, pixels), p);
                            c = Sixteen(ref Unsafe.Add(ref s0, 2 * pixels), p);
                        }
                        if (AdvSimd.Arm64.IsSupported) AdvSimd.Arm64.StoreVectorAndZip(pinned + 3 * p0, (a, b, c));
                        else Interleave3.Store(a, b, c, ref Unsafe.Add(ref dst, 3 * p0));
                    }
                }
            }
            else
            {
                Span<byte> block = stackalloc byte[16];
                for (; p0 + 16 <= pixels; p0 += 16)
                {
                    ref byte d = ref Unsafe.Add(ref dst, channels * p0);
                    for (int ch = 0; ch < channels; ch++)
                    {
                        Sixteen(ref Unsafe.Add(ref src, ch * pixels + p0), p).CopyTo(block);
                        for (int i = 0; i < 16; i++) Unsafe.Add(ref d, i * channels + ch) = block[i];
                    }
                }
            }
        }
        for (; p0 < pixels; p0++)
            for (int ch = 0; ch < channels; ch++)
                y[p0 * channels + ch] = One(x[ch * pixels + p0], scale, zeroPoint, signed);
    }

    private static byte One(float x, float scale, int zeroPoint, bool signed)
    {
        float q = MathF.Round(x / scale, MidpointRounding.ToEven);
        if (float.IsNaN(q)) q = 0;
        float v = Math.Clamp(q + zeroPoint, signed ? -128 : 0, signed ? 127 : 255);
        return signed ? (byte)(sbyte)v : (byte)v;
    }

    private readonly struct Parameters(float scale, int zeroPoint, bool signed)
    {
        public readonly Vector128<float> Scale = Vector128.Create(scale);
        public readonly Vector128<float> ZeroPoint = Vector128.Create((float)zeroPoint);
        public readonly Vector128<float> Lo = Vector128.Create(signed ? -128f : 0f);
        public readonly Vector128<float> Hi = Vector128.Create(signed ? 127f : 255f);
    }

    /// <summary>
    /// Sixteen values: divide, round to even, NaN → 0, add the zero point, clamp, then narrow int32 → int16 → 8 bits
    /// (exact, the values are already in range, so the plain conversion needs no saturation).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Sixteen(ref float src, in Parameters p)
    {
        if (Avx512F.IsSupported && Vector512.IsHardwareAccelerated)
        {
            // One division instruction for all sixteen (the division dominates this kernel), then VPMOVDB.
            var q = Vector512.Round(Vector512.LoadUnsafe(ref src) / Vector512.Create(p.Scale.ToScalar()));
            q = Vector512.ConditionalSelect(Vector512.Equals(q, q), q, Vector512<float>.Zero);
            q = Vector512.MinNative(Vector512.MaxNative(q + Vector512.Create(p.ZeroPoint.ToScalar()), Vector512.Create(p.Lo.ToScalar())),
                Vector512.Create(p.Hi.ToScalar()));
            return Avx512F.ConvertToVector128Byte(Vector512.ConvertToInt32Native(q));
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var lo = Eight(Vector256.LoadUnsafe(ref src), p);
            var hi = Eight(Vector256.LoadUnsafe(ref src, 8), p);
            var words = Vector256.Narrow(lo, hi);
            return Vector256.Narrow(words, words).GetLower().AsByte();
        }
        var a = Four(Vector128.LoadUnsafe(ref src), p);
        var b = Four(Vector128.LoadUnsafe(ref src, 4), p);
        var c = Four(Vector128.LoadUnsafe(ref src, 8), p);
        var d = Four(Vector128.LoadUnsafe(ref src, 12), p);
        return Vector128.Narrow(Vector128.Narrow(a, b), Vector128.Narrow(c, d)).AsByte();
    }

    /// <summary>Sixty-four values of one channel as bytes, in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<byte> SixtyFour(ref float src, in Parameters p) =>
        Vector512.Create(Vector256.Create(Sixteen(ref src, p), Sixteen(ref Unsafe.Add(ref src, 16), p)),
            Vector256.Create(Sixteen(ref Unsafe.Add(ref src, 32), p), Sixteen(ref Unsafe.Add(ref src, 48), p)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> Four(Vector128<float> x, in Parameters p)
    {
        var q = Vector128.Round(x / p.Scale);
        q = Vector128.ConditionalSelect(Vector128.Equals(q, q), q, Vector128<float>.Zero);
        return Vector128.ConvertToInt32Native(Vector128.MinNative(Vector128.MaxNative(q + p.ZeroPoint, p.Lo), p.Hi));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Eight(Vector256<float> x, in Parameters p)
    {
        var q = Vector256.Round(x / Vector256.Create(p.Scale, p.Scale));
        q = Vector256.ConditionalSelect(Vector256.Equals(q, q), q, Vector256<float>.Zero);
        var lo = Vector256.Create(p.Lo, p.Lo);
        var hi = Vector256.Create(p.Hi, p.Hi);
        return Vector256.ConvertToInt32Native(Vector256.MinNative(Vector256.MaxNative(q + Vector256.Create(p.ZeroPoint, p.ZeroPoint), lo), hi));
    }

    /// <summary>Three vectors of 16 bytes (one channel each) → 48 bytes of 16 pixels x 3 channels, by byte shuffles.</summary>
    private static class Interleave3
    {
        // Index tables for output byte j of each 16-byte third: the source byte of channel j % 3, or 0x80 (zero).
        private static readonly Vector128<byte>[] s_tables = BuildTables();

        private static Vector128<byte>[] BuildTables()
        {
            var tables = new Vector128<byte>[9];
            Span<byte> idx = stackalloc byte[16];
            for (int third = 0; third < 3; third++)
                for (int ch = 0; ch < 3; ch++)
                {
                    for (int j = 0; j < 16; j++)
                    {
                        int flat = third * 16 + j;
                        idx[j] = flat % 3 == ch ? (byte)(flat / 3) : (byte)0x80;
                    }
                    tables[third * 3 + ch] = Vector128.Create<byte>(idx);
                }
            return tables;
        }

        // Table lookups whose out-of-range indices (0x80) give 0 on both ISAs: pshufb and tbl.
        private static Vector128<byte> Lookup(Vector128<byte> v, Vector128<byte> indices) =>
            Ssse3.IsSupported ? Ssse3.Shuffle(v, indices)
            : AdvSimd.Arm64.IsSupported ? AdvSimd.Arm64.VectorTableLookup(v, indices)
            : Vector128.Shuffle(v, indices);

        public static void Store(Vector128<byte> a, Vector128<byte> b, Vector128<byte> c, ref byte destination)
        {
            var t = s_tables;
            for (int third = 0; third < 3; third++)
            {
                var v = Lookup(a, t[third * 3]) | Lookup(b, t[third * 3 + 1]) | Lookup(c, t[third * 3 + 2]);
                v.StoreUnsafe(ref destination, (nuint)(third * 16));
            }
        }
    }

    /// <summary>
    /// Three vectors of 64 bytes (one channel each) → 192 bytes of 64 pixels x 3 channels (AVX-512 VBMI): per 64
    /// output bytes one VPERMT2B takes channels 0 and 1 from the first two, one VPERMB channel 2 from the third, and a
    /// blend merges them.
    /// </summary>
    private static class Interleave3x64
    {
        // Per output third: the two-source indices (channel 0: pixel, channel 1: 64 + pixel), the third channel's
        // indices, and the mask of its bytes.
        private static readonly Vector512<byte>[] s_tables = BuildTables(i => i);
        private static readonly Vector512<byte>[] s_packedTables = BuildTables(PackedPosition);

        private static Vector512<byte>[] BuildTables(Func<int, int> position)
        {
            var tables = new Vector512<byte>[9];
            Span<byte> pair = stackalloc byte[64], third = stackalloc byte[64], mask = stackalloc byte[64];
            for (int k = 0; k < 3; k++)
            {
                for (int j = 0; j < 64; j++)
                {
                    int flat = k * 64 + j, pixel = flat / 3, channel = flat % 3;
                    int at = position(pixel);
                    pair[j] = channel == 0 ? (byte)at : channel == 1 ? (byte)(64 + at) : (byte)0;
                    third[j] = channel == 2 ? (byte)at : (byte)0;
                    mask[j] = channel == 2 ? (byte)0xFF : (byte)0;
                }
                tables[3 * k] = Vector512.Create<byte>(pair);
                tables[3 * k + 1] = Vector512.Create<byte>(third);
                tables[3 * k + 2] = Vector512.Create<byte>(mask);
            }
            return tables;
        }

        public static void Store(Vector512<byte> a, Vector512<byte> b, Vector512<byte> c, ref byte destination) =>
            Store(a, b, c, ref destination, s_tables);

        /// <summary>
        /// The tables (per output third: pair indices, third-channel indices, blend mask) for vectors in the order two
        /// VPACKSSDW and one VPACK*SWB leave 64 values in.
        /// </summary>
        public static ReadOnlySpan<Vector512<byte>> PackedTables => s_packedTables;

        /// <summary>
        /// Where value <paramref name="i"/> of 64 (four vectors of 16 int32, packed to words two by two, then to bytes)
        /// ends up: each pack works per 128-bit lane, so lane L holds values 4L..4L+3 of each of the four vectors.
        /// </summary>
        public static int PackedPosition(int i) => 16 * (i % 16 / 4) + 4 * (i / 16) + i % 4;

        private static void Store(Vector512<byte> a, Vector512<byte> b, Vector512<byte> c, ref byte destination, Vector512<byte>[] t)
        {
            for (int k = 0; k < 3; k++)
            {
                var v = Vector512.ConditionalSelect(t[3 * k + 2], Avx512Vbmi.PermuteVar64x8(c, t[3 * k + 1]), Avx512Vbmi.PermuteVar64x8x2(a, t[3 * k], b));
                v.StoreUnsafe(ref destination, (nuint)(k * 64));
            }
        }
    }
}
