using EdgeAgent.Kernels;

namespace EdgeAgent.Checks.Kernels;

/// <summary>
/// QConvDirect (few input channels, no im2col) on every supported path against a convolution written here from
/// the definition, bit for bit: stems (3x3 stride 2, 1-4 channels), 1-D kernels, dilation, asymmetric padding,
/// output channels around the 8-channel blocks, the 32-channel pass and the 16-channel tiles, batch, u8 and s8, bias or none, one or
/// per-channel scales, fused clamps, split row ranges; then the argument errors.
/// </summary>
public static class ConvDirectChecks
{
    public static void Register(List<Check> checks)
    {
        foreach (var isa in CpuFeatures.Host.SupportedIsas)
        {
            checks.Add(new("kernels", $"conv-direct.{isa.ToName()}.geometries", () => RunAll(isa)));
            checks.Add(new("kernels", $"conv-direct.{isa.ToName()}.large-scales", () => LargeScales(isa)));
            checks.Add(new("kernels", $"conv-direct.{isa.ToName()}.sums-near-float-limit", () => SumsNear2To24(isa)));
        }
        checks.Add(new("kernels", "conv-direct.argument-errors", ArgumentErrors));
    }

    private static IEnumerable<Conv2DShape> Shapes() =>
    [
        new(1, 9, 10, 3, 16, 3, 3, 2, 2, 1, 1, 1, 1),                                 // RGB stem, 3x3 s2 "same"
        new(1, 8, 8, 1, 5, 3, 3, 2, 2, 0, 0, 1, 1),                                   // grey, asymmetric pads, 5 channels
        new(2, 7, 6, 4, 13, 3, 3, 1, 1, 1, 1, 1, 1),                                  // batch 2, 4 channels, tail block
        new(1, 1, 20, 3, 16, 1, 5, PadLeft: 2, PadRight: 2),                          // 1-D k5 "same" (3-axis sensor)
        new(1, 1, 17, 2, 40, 1, 7, 1, 2, 0, 3, 0, 3),                                 // 1-D k7 s2, two passes of channels
        new(1, 9, 9, 3, 8, 3, 3, PadTop: 2, PadLeft: 2, PadBottom: 2, PadRight: 2, DilationHeight: 2, DilationWidth: 2),
        new(1, 5, 4, 5, 9, 2, 3, 1, 1, 0, 1, 1, 0),                                   // odd row taps (15), 2x3
        new(1, 3, 3, 3, 33, 3, 3, 2, 2, 1, 1, 1, 1),                                  // tiny image: every pixel a border
        new(1, 12, 30, 3, 16, 3, 3, 2, 2, 1, 1, 1, 1),                                // wide enough for interior groups of pixels
        new(1, 10, 19, 4, 24, 3, 3, 1, 1, 1, 1, 1, 1),                                // interior groups, stride 1, three blocks
        new(1, 6, 9, 4, 16, 3, 4, 1, 1, 1, 2, 1, 1),                                  // a full 16-tap kernel row (NEON: every lane)
        // The AVX-VNNI compacted-field path (fields of at most 32 taps, at most 4 kernel rows, eight pixels per group):
        new(2, 24, 70, 3, 16, 3, 3, 2, 2, 1, 1, 1, 1),                                // batch 2 stem, four full groups and a short one per row
        new(1, 10, 40, 3, 20, 4, 2, 1, 1, 2, 0, 1, 1),                                // four kernel rows (24 taps), 20 channels: a half pair
        new(1, 14, 33, 3, 16, 3, 3, 1, 2, 2, 1, 2, 1, DilationHeight: 2),             // dilated kernel rows
        new(1, 6, 50, 2, 8, 2, 2, 1, 3),                                              // stride 3, no padding: the last groups' loads reach the input's end
        // Its whole row quads read from the input, the 0-3 taps left per row packed into leftover quads:
        new(1, 9, 45, 1, 16, 4, 7, 1, 2, 1, 3, 2, 3),                                 // 4 rows x 7 taps: three leftover quads, 23 output columns
        new(1, 5, 23, 3, 8, 1, 1, 2, 2),                                              // 1x1 over RGB: no whole quad, only a leftover one
        new(1, 4, 1, 3, 16, 3, 3, 1, 1, 1, 1, 1, 1),                                  // one-pixel output rows, padding on both sides
        new(1, 7, 17, 3, 16, 3, 3, 2, 2, 0, 0, 1, 1),                                 // odd width, padding only right and bottom
        // The avx512 tap-pair kernel (output channels in 16s, eight pixels per tile):
        new(1, 11, 37, 3, 32, 3, 3, 2, 2, 1, 1, 1, 1),                                // two 16-channel blocks, 19 columns: two tiles and a short one
        new(1, 6, 24, 2, 48, 3, 3, 1, 1, 1, 1, 1, 1),                                 // three blocks, stride 1, whole tiles only
        new(1, 8, 40, 3, 16, 2, 3, 1, 2, 0, 4, 1, 3, DilationWidth: 3),               // dilated along the row (pairs within a column, odd channels), wide pads
        new(1, 2, 4201, 8, 16, 1, 2, 1, 1),                                           // a 1-D row longer than the kernel's stack slots
    ];

    private static void RunAll(Isa isa)
    {
        var table = KernelTable.For(isa);
        int seed = 0;
        foreach (var shape in Shapes())
            foreach (bool signed in new[] { false, true })
            {
                seed++;
                Verify(table, shape, signed, seed);
            }
    }

    /// <summary>
    /// Scales so large that (float)acc x scale passes int32 for most outputs, next to the usual ones in the same shapes:
    /// the AVX-VNNI field path then keeps its float clamp before the conversion (with ordinary scales it clamps bytes).
    /// </summary>
    private static void LargeScales(Isa isa)
    {
        var table = KernelTable.For(isa);
        int seed = 100;
        foreach (var shape in new Conv2DShape[] { new(1, 12, 30, 3, 16, 3, 3, 2, 2, 1, 1, 1, 1), new(1, 10, 40, 3, 20, 4, 2, 1, 1, 2, 0, 1, 1) })
            foreach (bool signed in new[] { false, true })
                foreach (float factor in new[] { 3e5f, 3e9f })
                    Verify(table, shape, signed, ++seed, factor);
    }

    /// <summary>
    /// Sums around 2^24, where an fp32 accumulator stops being exact (an exact-fp32 kernel must check its bound and fall
    /// back to integers): sums landing exactly on 2^24, and sums just past it where a simulated fp32 accumulator gives a
    /// different byte than the reference.
    /// </summary>
    private static void SumsNear2To24(Isa isa)
    {
        var table = KernelTable.For(isa);
        const int Taps = 10, Channels = 16;
        var shape = new Conv2DShape(1, 1, Taps, 1, Channels, 1, Taps);
        // Every tap 255 x 127 (zero point 0), the bias makes the sum exactly 2^24.
        var x = Enumerable.Repeat((byte)255, Taps).ToArray();
        var w = Enumerable.Repeat((sbyte)127, Channels * Taps).ToArray();
        int edge = (1 << 24) - 255 * 127 * Taps;
        int[] bias = Enumerable.Range(0, Channels).Select(o => edge - o).ToArray();
        float[] scales = [200f / (1 << 24)];
        VerifyOne(table, shape, x, 0, w, bias, scales, QuantizedOutput.U8(0), "sums reaching 2^24");
        // From 2^24 - 1, ten products of +1 — an fp32 accumulator stops at 2^24 (each +1 from there is a tie
        // rounded back to even), the exact sum is 2^24 + 9, and the scale puts the rounding boundary between the two.
        x = Enumerable.Repeat((byte)1, Taps).ToArray();
        w = Enumerable.Repeat((sbyte)1, Channels * Taps).ToArray();
        bias = Enumerable.Repeat((1 << 24) - 1, Channels).ToArray();
        float fp32 = bias[0];
        for (int t = 0; t < Taps; t++) fp32 = MathF.FusedMultiplyAdd(1f, 1f, fp32);
        int exact = bias[0] + Taps;
        float scale = 200.5f / (1 << 24);
        Expect.True(Requantization.Requantize(exact, scale, 0, 0, 255) != Requantization.Requantize((int)fp32, scale, 0, 0, 255),
            $"the case tells an fp32 accumulator ({fp32}) from the exact sum ({exact})");
        VerifyOne(table, shape, x, 0, w, bias, [scale], QuantizedOutput.U8(0), "sums past 2^24");
    }

    private static void VerifyOne(KernelTable table, Conv2DShape s, byte[] x, int zpIn, sbyte[] w, int[] bias, float[] scales, QuantizedOutput output, string what)
    {
        var expected = Reference(s, x, false, zpIn, w, bias, scales, output);
        var actual = new byte[expected.Length];
        new QConvDirect(table, s, w).Run(x, zpIn, bias, scales, output, actual, 0, s.Batch * s.OutHeight);
        Expect.SequenceEqual<byte>(expected, actual, $"direct conv {table.Name} {s}: {what}");
    }

    private static void Verify(KernelTable table, Conv2DShape s, bool signed, int seed, float scaleFactor = 1f)
    {
        var rng = new Random(seed);
        var x = new byte[s.Batch * s.Height * s.Width * s.InChannels];
        rng.NextBytes(x);
        int zpIn = signed ? new[] { -128, 127, 3 }[seed % 3] : new[] { 0, 255, 128 }[seed % 3];
        var w = new sbyte[s.OutChannels * s.InChannels * s.KernelHeight * s.KernelWidth];
        for (int i = 0; i < w.Length; i++) w[i] = (sbyte)rng.Next(-128, 128);
        int[] bias = seed % 3 == 0 ? [] : Enumerable.Range(0, s.OutChannels).Select(_ => rng.Next(-50000, 50000)).ToArray();
        float[] scales = Enumerable.Range(0, seed % 2 == 0 ? s.OutChannels : 1)
            .Select(_ => scaleFactor * (float)(rng.NextDouble() + 0.1) / (s.GemmK * 128)).ToArray();
        var output = signed ? QuantizedOutput.S8(-5) : QuantizedOutput.U8(7);
        if (seed % 4 == 0) output = output.Relu();
        if (seed % 5 == 0) output = output.MinMax(-1f, 2f, 0.05f);
        int outLength = s.Batch * s.OutHeight * s.OutWidth * s.OutChannels;
        var expected = Reference(s, x, signed, zpIn, w, bias, scales, output);
        var actual = new byte[outLength];
        rng.NextBytes(actual);
        var conv = new QConvDirect(table, s, w);
        int rows = s.Batch * s.OutHeight, split = rows / 2;
        // Two row ranges, as a caller splitting rows over threads would run them.
        foreach (var (start, count) in new[] { (0, split), (split, rows - split) })
        {
            if (signed)
                conv.Run(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(x.AsSpan()), zpIn, bias, scales, output,
                    System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(actual.AsSpan()), start, count);
            else conv.Run(x, zpIn, bias, scales, output, actual, start, count);
        }
        Expect.SequenceEqual<byte>(expected, actual, $"direct conv {table.Name} {s} signed={signed} seed={seed}");
    }

    /// <summary>The definition: acc = bias + Σ (x − zp)·w over the window (padding reads zp), then requantize.</summary>
    private static byte[] Reference(Conv2DShape s, byte[] x, bool signed, int zp, sbyte[] w, int[] bias, float[] scales, QuantizedOutput output)
    {
        var y = new byte[s.Batch * s.OutHeight * s.OutWidth * s.OutChannels];
        for (int n = 0; n < s.Batch; n++)
            for (int oy = 0; oy < s.OutHeight; oy++)
                for (int ox = 0; ox < s.OutWidth; ox++)
                    for (int o = 0; o < s.OutChannels; o++)
                    {
                        long acc = bias.Length == 0 ? 0 : bias[o];
                        for (int c = 0; c < s.InChannels; c++)
                            for (int ky = 0; ky < s.KernelHeight; ky++)
                                for (int kx = 0; kx < s.KernelWidth; kx++)
                                {
                                    int iy = oy * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                                    int ix = ox * s.StrideWidth - s.PadLeft + kx * s.DilationWidth;
                                    if (iy < 0 || iy >= s.Height || ix < 0 || ix >= s.Width) continue;
                                    byte raw = x[((n * s.Height + iy) * s.Width + ix) * s.InChannels + c];
                                    int v = signed ? (sbyte)raw : raw;
                                    acc += (long)(v - zp) * w[((o * s.InChannels + c) * s.KernelHeight + ky) * s.KernelWidth + kx];
                                }
                        int q = Requantization.Requantize((int)acc, scales.Length == 1 ? scales[0] : scales[o], output.ZeroPoint, output.Min, output.Max);
                        y[((n * s.OutHeight + oy) * s.OutWidth + ox) * s.OutChannels + o] = signed ? (byte)(sbyte)q : (byte)q;
                    }
        return y;
    }

    private static void ArgumentErrors()
    {
        var table = KernelTable.For(Isa.Scalar);
        Expect.True(!QConvDirect.Supports(new Conv2DShape(1, 8, 8, 8, 16, 3, 3)), "a 3x3 kernel over 8 channels (24 row taps) is not a direct-conv shape");
        Expect.True(!QConvDirect.Supports(new Conv2DShape(1, 8, 8, 4, 4, 3, 3, Groups: 2)), "grouped convolutions are not direct-conv shapes");
        Fails<ArgumentException>(() => new QConvDirect(table, new Conv2DShape(1, 8, 8, 8, 16, 3, 3), new sbyte[16 * 8 * 9]), "KernelWidth x InChannels");
        Fails<ArgumentException>(() => new QConvDirect(table, new Conv2DShape(1, 8, 8, 3, 4, 3, 3), new sbyte[10]), "weights hold 10 values");
        var conv = new QConvDirect(table, new Conv2DShape(1, 4, 4, 3, 4, 3, 3, 1, 1, 1, 1, 1, 1), new sbyte[4 * 3 * 9]);
        Fails<ArgumentException>(() => conv.Run(new byte[47], 0, [], [1f], QuantizedOutput.U8(0), new byte[64], 0, 4), "input has 47");
        Fails<ArgumentException>(() => conv.Run(new byte[48], 0, [], [1f, 1f], QuantizedOutput.U8(0), new byte[64], 0, 4), "scales has 2");
        Fails<ArgumentException>(() => conv.Run(new byte[48], 300, [], [1f], QuantizedOutput.U8(0), new byte[64], 0, 4), "input zero point 300");
        Fails<ArgumentOutOfRangeException>(() => conv.Run(new byte[48], 0, [], [1f], QuantizedOutput.U8(0), new byte[64], 2, 3), "output rows");
    }

    private static void Fails<TException>(Action action, string expectedInMessage) where TException : Exception
    {
        var e = Expect.Throws<TException>(action, expectedInMessage);
        Expect.True(e.Message.Contains(expectedInMessage, StringComparison.Ordinal), $"message names '{expectedInMessage}': {e.Message}");
    }
}
