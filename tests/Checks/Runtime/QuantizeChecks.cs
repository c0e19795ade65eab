using EdgeAgent.Runtime.Ops;

namespace EdgeAgent.Checks.Runtime;

/// <summary>
/// QuantizeLinear's transpose-quantize (float NCHW to 8-bit NHWC, the input node of a quantized CNN) against the
/// element definition, bit for bit: channel counts 1 to 16 (RGB has its own 64-pixel AVX-512 VBMI and 16-pixel
/// shuffle forms), pixel counts around 16 and 64, ties, NaN, infinities, u8 and s8; every path (the 64-pixel
/// forms, the multiply-by-reciprocal forms and the division they fall back to) on its own.
/// </summary>
public static class QuantizeChecks
{
    private static readonly QuantizePaths[] s_paths = [QuantizePaths.ExactOnly, QuantizePaths.Wide, QuantizePaths.Reciprocal, QuantizePaths.All];

    public static void Register(List<Check> checks)
    {
        checks.Add(new("runtime", "quantize.nchw-to-nhwc-matches-definition", NchwToNhwc));
        checks.Add(new("runtime", "quantize.rgb-reciprocal-near-half-integers", RgbNearHalfIntegers));
    }

    private static void NchwToNhwc()
    {
        var rng = new Random(0x9a);
        foreach (var paths in s_paths)
        foreach (int channels in new[] { 1, 2, 3, 4, 16 })
        foreach (int pixels in new[] { 1, 15, 16, 63, 64, 65, 129, 200 })
        foreach (var (scale, zeroPoint, signed) in new[] { (0.25f, 128, false), (0.0371f, -7, true), (0.02f, 0, false) })
        {
            var x = new float[channels * pixels];
            for (int i = 0; i < x.Length; i++)
            {
                x[i] = (i % 4) switch
                {
                    0 => (rng.Next(-300, 300) + 0.5f) * scale,   // an exact tie with the power-of-two scale
                    1 => (float)(rng.NextDouble() * 600 - 300) * scale,
                    2 => rng.Next(-140, 140) * scale,
                    _ => (float)(rng.NextDouble() * 4 - 2),
                };
            }
            if (x.Length > 5) { x[1] = float.NaN; x[4] = float.PositiveInfinity; x[5] = float.NegativeInfinity; }
            Compare(x, scale, zeroPoint, signed, channels, pixels, paths);
        }
    }

    /// <summary>
    /// RGB values a few ulps around every (k + 1/2) · scale and (k + 1/2) / (1 / scale), where the product by the
    /// reciprocal and the quotient can round to different integers: with scales that are not powers of two,
    /// zero points at both ends, u8 and s8, and the blocks where every lane is fine between them (the fast path
    /// must not leak into a block that fell back, nor the other way round).
    /// </summary>
    private static void RgbNearHalfIntegers()
    {
        var rng = new Random(0x5c);
        const int pixels = 64 * 6 + 16 + 5;
        var x = new float[3 * pixels];
        foreach (var paths in s_paths)
        foreach (var (scale, zeroPoint, signed) in new[]
        {
            (0.0186f, 0, false), (0.0186f, 255, false), (1f / 255, 114, false), (0.3333333f, -128, true),
            (0.0071f, 127, true), (3.7e-6f, 17, false), (1234.5f, -3, true), (0.049f, 7, false),
        })
        {
            float r = 1f / scale;
            for (int i = 0; i < x.Length; i++)
            {
                int block = i % pixels / 64;
                if (block == 1 || block == 4) { x[i] = rng.Next(-300, 300) * scale; continue; }   // no lane near a tie
                float k = rng.Next(-300, 300) + 0.5f;
                float v = (i & 1) == 0 ? k * scale : k / r;
                for (int step = rng.Next(-4, 5); step != 0; step -= Math.Sign(step))
                    v = step > 0 ? MathF.BitIncrement(v) : MathF.BitDecrement(v);
                x[i] = v;
            }
            // In the blocks without ties too, where only these lanes can send the block to the division.
            x[64 + 7] = float.NaN;
            x[pixels + 64 + 20] = float.PositiveInfinity;
            x[2 * pixels + 4 * 64 + 2] = float.NegativeInfinity;
            x[pixels + 4 * 64 + 9] = 3e38f;
            x[4 * 64 + 10] = -3e38f;
            x[2 * 64 + 7] = float.NaN;
            Compare(x, scale, zeroPoint, signed, 3, pixels, paths);
        }
    }

    private static void Compare(float[] x, float scale, int zeroPoint, bool signed, int channels, int pixels, QuantizePaths paths)
    {
        var actual = new byte[x.Length];
        QuantizeKernel.QuantizeToNhwc(x, scale, zeroPoint, actual, signed, channels, pixels, paths);
        for (int p = 0; p < pixels; p++)
        for (int c = 0; c < channels; c++)
        {
            float v = x[c * pixels + p];
            float q = MathF.Round(v / scale, MidpointRounding.ToEven);
            if (float.IsNaN(q)) q = 0;
            int want = (int)Math.Clamp(q + zeroPoint, signed ? -128f : 0f, signed ? 127f : 255f);
            int got = signed ? (sbyte)actual[p * channels + c] : actual[p * channels + c];
            if (want != got)
                Expect.True(false, $"{paths}: C = {channels}, {pixels} pixels, scale {scale:R}, zero point {zeroPoint}: pixel {p} channel {c} (x = {v:R}) should be {want}, got {got}");
        }
    }
}
