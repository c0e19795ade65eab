using EdgeAgent.Runtime.Ops;

namespace EdgeAgent.Checks.Runtime;

/// <summary>
/// QuantizeLinear's transpose-quantize (float NCHW to 8-bit NHWC, the input node of a quantized CNN) against the
/// element definition, bit for bit: channel counts 1 to 16 (RGB has its own 64-pixel AVX-512 VBMI and 16-pixel
/// shuffle forms), pixel counts around 16 and 64, ties, NaN, infinities, u8 and s8.
/// </summary>
public static class QuantizeChecks
{
    public static void Register(List<Check> checks) =>
        checks.Add(new("runtime", "quantize.nchw-to-nhwc-matches-definition", NchwToNhwc));

    private static void NchwToNhwc()
    {
        var rng = new Random(0x9a);
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
            var actual = new byte[x.Length];
            QuantizeKernel.QuantizeToNhwc(x, scale, zeroPoint, actual, signed, channels, pixels);
            for (int p = 0; p < pixels; p++)
            for (int c = 0; c < channels; c++)
            {
                float v = x[c * pixels + p];
                float q = MathF.Round(v / scale, MidpointRounding.ToEven);
                if (float.IsNaN(q)) q = 0;
                int want = (int)Math.Clamp(q + zeroPoint, signed ? -128f : 0f, signed ? 127f : 255f);
                int got = signed ? (sbyte)actual[p * channels + c] : actual[p * channels + c];
                if (want != got)
                    Expect.True(false, $"C = {channels}, {pixels} pixels, scale {scale}: pixel {p} channel {c} (x = {v:R}) should be {want}, got {got}");
            }
        }
    }
}
