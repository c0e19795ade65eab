using EdgeAgent.Kernels;
using static EdgeAgent.Checks.Kernels.KernelCheckKit;

namespace EdgeAgent.Checks.Kernels;

/// <summary>
/// One template for the int8 depthwise convolution: every path against the scalar reference, bit for bit,
/// over shapes chosen to hit the edges (one pixel, odd sizes, channel counts around the 8/16 vector steps,
/// stride 2 on odd inputs, asymmetric padding, dilation), extreme zero points and scales, saturation and fused
/// clamps; then the scalar reference against a naive real-valued convolution.
/// </summary>
public static class DepthwiseChecks
{
    private sealed record Case(string Name, WindowGeometry Geometry, int Channels);

    private static IEnumerable<Case> Cases()
    {
        yield return new("1x1-input-3x3-pad1-c1", new WindowGeometry(1, 1, 3, 1, 1), 1);
        yield return new("5x7-3x3-s1-p1-c16", new WindowGeometry(5, 7, 3, 1, 1), 16);
        yield return new("7x5-3x3-s2-p1-c17", new WindowGeometry(7, 5, 3, 2, 1), 17);
        yield return new("9x9-3x3-s2-p0-c40", new WindowGeometry(9, 9, 3, 2, 0), 40);
        yield return new("6x6-5x5-s1-p2-c24", new WindowGeometry(6, 6, 5, 1, 2), 24);
        yield return new("11x9-5x5-s2-p2-c33", new WindowGeometry(11, 9, 5, 2, 2), 33);
        yield return new("3x3-5x5-s1-p2-c8", new WindowGeometry(3, 3, 5, 1, 2), 8);
        yield return new("4x5-3x3-asym-pad-c15", new WindowGeometry(4, 5, 3, 3, 1, 1, 0, 1, 2, 0), 15);
        yield return new("8x8-3x3-dil2-p2-c7", new WindowGeometry(8, 8, 3, 1, 2, 2), 7);
        yield return new("2x13-1x3-s1x2-c3", new WindowGeometry(2, 13, 1, 3, 1, 2, 0, 1, 0, 1), 3);
        yield return new("1x2-3x3-s2-p1-c48", new WindowGeometry(1, 2, 3, 2, 1), 48);
        // Full windows take the paired-tap AVX2 path: dilated, and an odd tap count (1x3) with a channel tail.
        yield return new("9x9-3x3-dil2-p0-c32", new WindowGeometry(9, 9, 3, 1, 0, 2), 32);
        yield return new("3x9-1x3-s1-c35", new WindowGeometry(3, 9, 1, 3, 1, 1, 0, 0, 0, 0), 35);
        // The x86 row kernel: several pixels per vector (C = 16, 1), stride planes, a row tail that is not a
        // multiple of 32 bytes, three channel phases (C = 96 and 48), a tall odd kernel with uneven strides.
        yield return new("13x21-3x3-s2-p1-c16", new WindowGeometry(13, 21, 3, 2, 1), 16);
        yield return new("4x37-3x3-s1-p1-c32", new WindowGeometry(4, 37, 3, 1, 1), 32);
        yield return new("7x7-5x5-s2-p2-c96", new WindowGeometry(7, 7, 5, 2, 2), 96);
        yield return new("3x50-3x3-s1-p1-c1", new WindowGeometry(3, 50, 3, 1, 1), 1);
        yield return new("9x8-7x3-s1x2-asym-c20", new WindowGeometry(9, 8, 7, 3, 1, 2, 3, 0, 2, 1), 20);
        yield return new("5x6-3x3-s1-p1-c48", new WindowGeometry(5, 6, 3, 1, 1), 48);
        // The AVX-VNNI kernel-row kernel: output rows in pairs plus an odd last row, two pixels per vector,
        // stride 2 and uneven strides on C multiple of 32, kernels 3x2 and 3x4 with three channel phases.
        yield return new("7x9-3x3-s1-p1-c16", new WindowGeometry(7, 9, 3, 1, 1), 16);
        yield return new("9x10-3x3-s2-p1-c64", new WindowGeometry(9, 10, 3, 2, 1), 64);
        yield return new("8x6-3x2-s1-asym-c48", new WindowGeometry(8, 6, 3, 2, 1, 1, 1, 0, 0, 1), 48);
        yield return new("6x7-3x4-s1-p1-c24", new WindowGeometry(6, 7, 3, 4, 1, 1, 1, 2, 1, 1), 24);
        yield return new("11x9-3x3-s3x2-c32", new WindowGeometry(11, 9, 3, 3, 3, 2, 1, 1, 1, 0), 32);
        // The AVX-VNNI pixel-pair kernel (3x3 stride 1, C a multiple of 32): odd and even output widths (a last
        // pixel without its pair), one output pixel, 1, 2 and 3 channel blocks, padding on one side only, wide
        // asymmetric padding, none.
        yield return new("6x8-3x3-s1-p1-c64", new WindowGeometry(6, 8, 3, 1, 1), 64);
        yield return new("5x7-3x3-s1-p0-c96", new WindowGeometry(5, 7, 3, 1, 0), 96);
        yield return new("3x3-3x3-s1-p0-c32", new WindowGeometry(3, 3, 3, 1, 0), 32);
        yield return new("1x1-3x3-s1-p1-c64", new WindowGeometry(1, 1, 3, 1, 1), 64);
        yield return new("7x6-3x3-s1-asym-c32", new WindowGeometry(7, 6, 3, 3, 1, 1, 2, 2, 0, 1), 32);
        yield return new("4x9-3x3-s1-pad-right-c64", new WindowGeometry(4, 9, 3, 3, 1, 1, 0, 0, 1, 2), 64);
        // Its channel strips: one block per strip (C = 96 at 60 wide), 5 blocks plus 3 (C = 256 at 20 wide).
        yield return new("4x60-3x3-s1-p1-c96", new WindowGeometry(4, 60, 3, 1, 1), 96);
        yield return new("5x20-3x3-s1-p1-c256", new WindowGeometry(5, 20, 3, 1, 1), 256);
        // Kernel rows at stride 2 read inner windows straight from the input: windows cut by the right edge
        // only, and a 3x4 kernel cut on both sides.
        yield return new("6x8-3x3-s2-right-edge-c32", new WindowGeometry(6, 8, 3, 3, 2, 2, 0, 0, 1, 1), 32);
        yield return new("7x9-3x4-s2-asym-c64", new WindowGeometry(7, 9, 3, 4, 2, 2, 1, 1, 1, 2), 64);
        // The NEON four-pixel kernel (interior pixels in fours, 16 channels per step): runs of 4 with a single
        // pixel after them, 16 + 8 and 3 x 16 + 1 channels (the one-pixel form takes the rest), stride 2, dilation.
        yield return new("5x19-3x3-s1-p1-c24", new WindowGeometry(5, 19, 3, 1, 1), 24);
        yield return new("7x12-5x5-s2-p2-c49", new WindowGeometry(7, 12, 5, 2, 2), 49);
        yield return new("9x14-3x3-dil2-p2-c16", new WindowGeometry(9, 14, 3, 1, 2, 2), 16);
        // The AVX-VNNI lane-pair kernel (stride 1, KW <= 3, C a multiple of 16, output width a multiple of 4 or at
        // least 32): 1, 3 and 5 units of 16 channels, a last column of 1, 2 or 3 pixels, kernels 3x2, 3x1, 7x3, one
        // output row, padding wider than the kernel (windows all padding), none.
        yield return new("5x8-3x3-s1-p1-c16", new WindowGeometry(5, 8, 3, 1, 1), 16);
        yield return new("3x33-3x3-s1-p1-c16", new WindowGeometry(3, 33, 3, 1, 1), 16);
        yield return new("4x36-3x3-s1-p0-c48", new WindowGeometry(4, 36, 3, 1, 0), 48);
        yield return new("5x35-3x3-s1-p1-c16", new WindowGeometry(5, 35, 3, 1, 1), 16);
        yield return new("6x4-3x2-s1-asym-c16", new WindowGeometry(6, 4, 3, 2, 1, 1, 0, 1, 2, 0), 16);
        yield return new("5x4-3x1-s1-p1-c16", new WindowGeometry(5, 4, 3, 1, 1, 1, 1, 0, 1, 0), 16);
        yield return new("9x8-7x3-s1-asym-c32", new WindowGeometry(9, 8, 7, 3, 1, 1, 3, 1, 2, 1), 32);
        yield return new("4x6-3x3-s1-pad2-c16", new WindowGeometry(4, 6, 3, 1, 2), 16);
        yield return new("6x4-3x3-s1-p1-c80", new WindowGeometry(6, 4, 3, 1, 1), 80);
        yield return new("1x4-3x3-s1-p1-c16", new WindowGeometry(1, 4, 3, 1, 1), 16);
        // Its quads built straight from the input: C = 16 takes two pixels per 32-byte load inside the row; the
        // zero-point strip where a quad passes an edge (left padding 1, 0 and 2; right edges at every pixel parity).
        yield return new("4x40-3x3-s1-p1-c16", new WindowGeometry(4, 40, 3, 1, 1), 16);
        yield return new("3x37-3x3-s1-p0-c16", new WindowGeometry(3, 37, 3, 1, 0), 16);
        yield return new("3x39-3x2-s1-asym-c16", new WindowGeometry(3, 39, 3, 2, 1, 1, 1, 2, 1, 0), 16);
        // Five-wide kernels at stride 1 (flat tap groups on x86): 1, 2, 3 and 4 channel blocks, narrow and one-pixel
        // outputs, no padding; kernel heights 1, 7 and 8, three channel phases (C = 20, 12), a row tail.
        yield return new("9x11-5x5-s1-p2-c32", new WindowGeometry(9, 11, 5, 1, 2), 32);
        yield return new("6x9-5x5-s1-p2-c48", new WindowGeometry(6, 9, 5, 1, 2), 48);
        yield return new("3x2-5x5-s1-p2-c16", new WindowGeometry(3, 2, 5, 1, 2), 16);
        yield return new("1x1-5x5-s1-p2-c16", new WindowGeometry(1, 1, 5, 1, 2), 16);
        yield return new("5x5-5x5-s1-p0-c64", new WindowGeometry(5, 5, 5, 1, 0), 64);
        yield return new("4x7-1x5-s1-p0x2-c16", new WindowGeometry(4, 7, 1, 5, 1, 1, 0, 2, 0, 2), 16);
        yield return new("8x9-7x5-s1-asym-c20", new WindowGeometry(8, 9, 7, 5, 1, 1, 3, 1, 2, 3), 20);
        yield return new("9x8-8x5-s1-asym-c12", new WindowGeometry(9, 8, 8, 5, 1, 1, 3, 2, 4, 2), 12);
        // The AVX-VNNI pair-strip kernel (five-wide, stride 1, C a multiple of 32): channel strips of 3 blocks plus 1
        // (C = 128 at 14x14) and 2 plus 1 (C = 96 at 20 wide), two pixel pairs per step plus a single pair and a last
        // odd pixel, padding wider on one side and as wide as the kernel allows, a 3x5 kernel.
        yield return new("14x14-5x5-s1-p2-c128", new WindowGeometry(14, 14, 5, 1, 2), 128);
        yield return new("4x20-5x5-s1-p2-c96", new WindowGeometry(4, 20, 5, 1, 2), 96);
        yield return new("6x4-5x5-s1-p2-c32", new WindowGeometry(6, 4, 5, 1, 2), 32);
        yield return new("7x10-5x5-s1-asym-c64", new WindowGeometry(7, 10, 5, 5, 1, 1, 1, 3, 3, 1), 64);
        yield return new("3x3-5x5-s1-p4-c32", new WindowGeometry(3, 3, 5, 1, 4), 32);
        yield return new("5x12-3x5-s1-p1x2-c96", new WindowGeometry(5, 12, 3, 5, 1, 1, 1, 2, 1, 2), 96);
        // The AVX-VNNI stride-pair kernel (three-wide, horizontal stride 2, C a multiple of 32): two pixel pairs per step,
        // a single pair, a last odd pixel, one output pixel, strips of one block (C = 96 at 60 pixels wide), "same"
        // padding on the bottom/right only, a 5x3 kernel, vertical stride 3.
        yield return new("13x17-3x3-s2-p1-c96", new WindowGeometry(13, 17, 3, 2, 1), 96);
        yield return new("5x120-3x3-s2-p1-c96", new WindowGeometry(5, 120, 3, 2, 1), 96);
        yield return new("6x7-3x3-s2-p0-c32", new WindowGeometry(6, 7, 3, 2, 0), 32);
        yield return new("3x1-3x3-s2-p1-c32", new WindowGeometry(3, 1, 3, 2, 1), 32);
        yield return new("8x8-3x3-s2-same-c64", new WindowGeometry(8, 8, 3, 3, 2, 2, 0, 0, 1, 1), 64);
        yield return new("9x9-5x3-s2-p2x1-c32", new WindowGeometry(9, 9, 5, 3, 2, 2, 2, 1, 2, 1), 32);
        yield return new("10x9-3x3-s3x2-p1-c64", new WindowGeometry(10, 9, 3, 3, 3, 2, 1, 1, 1, 1), 64);
        // The AVX-512 column-pair kernel (3x3, stride 1 or 2, C a multiple of 16): two columns (both pads slide in from
        // zero-point columns), one column (border pixels only), stride 2 with an even width (the last window slides
        // past the right edge) and an odd one, 'same' padding only on the bottom/right at stride 2, 1 and 5 blocks.
        yield return new("3x2-3x3-s1-p1-c32", new WindowGeometry(3, 2, 3, 1, 1), 32);
        yield return new("4x1-3x3-s1-p1-c16", new WindowGeometry(4, 1, 3, 1, 1), 16);
        yield return new("6x10-3x3-s2-p1-c80", new WindowGeometry(6, 10, 3, 2, 1), 80);
        yield return new("5x11-3x3-s2-p1-c16", new WindowGeometry(5, 11, 3, 2, 1), 16);
        yield return new("9x12-3x3-s2-same-c48", new WindowGeometry(9, 12, 3, 3, 2, 2, 0, 0, 1, 1), 48);
    }

    private sealed record Quant(string Name, int ZpIn, int ZpOut, float ScaleMul, int Activation);

    private static Quant[] QuantsU8 =>
    [
        new("mid", 128, 128, 1f, 0),
        new("zp0-relu", 0, 0, 1f, 1),
        new("zp255", 255, 255, 1f, 0),
        new("saturating", 7, 250, 40f, 0),
        new("tiny-scale", 200, 3, 1e-5f, 0),
        new("relu6", 100, 20, 1f, 2),
    ];

    private static Quant[] QuantsS8 =>
    [
        new("mid", 0, 0, 1f, 0),
        new("zp-128", -128, -128, 1f, 1),
        new("zp127", 127, 127, 1f, 0),
        new("saturating", -90, 100, 40f, 0),
        new("relu6", 5, -10, 1f, 2),
    ];

    public static void Register(List<Check> checks)
    {
        checks.Add(new("kernels", "depthwise.u8.paths-match-scalar", () => PathsMatch<byte>(QuantsU8, 0x3d1)));
        checks.Add(new("kernels", "depthwise.s8.paths-match-scalar", () => PathsMatch<sbyte>(QuantsS8, 0x3d2)));
        checks.Add(new("kernels", "depthwise.out-of-int32-products-match-scalar", OutOfInt32Products));
        checks.Add(new("kernels", "depthwise.float-accumulation-only-when-exact", FloatAccumulationOnlyWhenExact));
        checks.Add(new("kernels", "depthwise.row-split-is-invisible", RowSplit));
        checks.Add(new("kernels", "depthwise.scalar-matches-real-conv", ScalarMatchesRealConv));
        checks.Add(new("kernels", "depthwise.bad-arguments-are-named", BadArguments));
        checks.Add(new("kernels", "depthwise.float.paths-match-scalar", FloatPathsMatch));
        checks.Add(new("kernels", "depthwise.float.scalar-matches-double", FloatScalarMatchesDouble));
    }

    private static QuantizedOutput MakeOutput<T>(Quant q, float outScale)
    {
        var o = typeof(T) == typeof(byte) ? QuantizedOutput.U8(q.ZpOut) : QuantizedOutput.S8(q.ZpOut);
        return q.Activation switch { 1 => o.Relu(), 2 => o.Relu6(outScale), _ => o };
    }

    private static void PathsMatch<T>(Quant[] quants, int seed) where T : unmanaged, IEquatable<T>
    {
        var rng = Rng(seed);
        var reference = Reference;
        var tables = VectorTables.ToArray();
        foreach (var c in Cases())
        {
            var g = c.Geometry;
            int taps = g.KernelHeight * g.KernelWidth;
            foreach (var q in quants)
            {
                int inCount = g.InputHeight * g.InputWidth * c.Channels, outCount = g.OutputHeight * g.OutputWidth * c.Channels;
                var weights = SBytes(rng, taps * c.Channels);
                var bias = Ints(rng, c.Channels, -20000, 20000);
                // Per-channel scales spanning two decades around what keeps outputs mostly in range.
                var scales = new float[c.Channels];
                for (int i = 0; i < c.Channels; i++) scales[i] = q.ScaleMul * (float)(0.3 / (taps * 128.0) * Math.Pow(10, rng.NextDouble() * 2 - 1));
                // Extreme weights on some channels make sure -128 * (255 or -255) is covered.
                for (int i = 0; i < weights.Length; i += 5) weights[i] = -128;
                var expected = new T[outCount];
                var actualBuffer = new T[outCount];
                T[] input = MakeInput<T>(rng, inCount);
                var output = MakeOutput<T>(q, 0.05f);
                var packedByTable = new List<DepthwiseWeights>();
                Run(reference, g, c.Channels, input, q.ZpIn, weights, bias, scales, output, expected, 0, g.OutputHeight);
                foreach (var table in tables)
                {
                    Array.Fill(actualBuffer, default);
                    Run(table, g, c.Channels, input, q.ZpIn, weights, bias, scales, output, actualBuffer, 0, g.OutputHeight);
                    Expect.SequenceEqual<T>(expected, actualBuffer, $"{table.Name} {c.Name} quant {q.Name}");
                    // The same weights prepared once at load (NEON: widened to int16 there, not per call); the first call
                    // prepares the x86 layout and keeps it, the second reads what the first kept.
                    var packed = table.PackDepthwise(weights, taps, c.Channels);
                    packedByTable.Add(packed);
                    for (int call = 1; call <= 2; call++)
                    {
                        Array.Fill(actualBuffer, default);
                        RunPacked(table, g, c.Channels, input, q.ZpIn, packed, bias, scales, output, actualBuffer);
                        Expect.SequenceEqual<T>(expected, actualBuffer, $"{table.Name} {c.Name} quant {q.Name}, prepared weights, call {call}");
                    }
                }
                // A bias changed in place (same array) must not read the constants kept for the old values: every channel
                // moved by about five output steps, so stale constants show on almost every output.
                for (int i = 0; i < bias.Length; i++) bias[i] += (int)(5 / scales[i]);
                Run(reference, g, c.Channels, input, q.ZpIn, weights, bias, scales, output, expected, 0, g.OutputHeight);
                for (int t = 0; t < tables.Length; t++)
                {
                    Array.Fill(actualBuffer, default);
                    RunPacked(tables[t], g, c.Channels, input, q.ZpIn, packedByTable[t], bias, scales, output, actualBuffer);
                    Expect.SequenceEqual<T>(expected, actualBuffer, $"{tables[t].Name} {c.Name} quant {q.Name}, prepared weights, bias changed");
                }
                // No bias is the other entry condition of the accumulators; through the prepared weights it must not
                // reuse what the calls with the bias kept.
                Run(reference, g, c.Channels, input, q.ZpIn, weights, [], scales, output, expected, 0, g.OutputHeight);
                for (int t = 0; t < tables.Length; t++)
                {
                    var table = tables[t];
                    Run(table, g, c.Channels, input, q.ZpIn, weights, [], scales, output, actualBuffer, 0, g.OutputHeight);
                    Expect.SequenceEqual<T>(expected, actualBuffer, $"{table.Name} {c.Name} quant {q.Name} without bias");
                    Array.Fill(actualBuffer, default);
                    RunPacked(table, g, c.Channels, input, q.ZpIn, packedByTable[t], [], scales, output, actualBuffer);
                    Expect.SequenceEqual<T>(expected, actualBuffer, $"{table.Name} {c.Name} quant {q.Name} without bias, prepared weights");
                }
            }
        }
    }

    private static T[] MakeInput<T>(Random rng, int n) where T : unmanaged
    {
        var data = new T[n];
        if (typeof(T) == typeof(byte)) Bytes(rng, n).CopyTo((byte[])(object)data, 0);
        else SBytes(rng, n).CopyTo((sbyte[])(object)data, 0);
        // Runs of the extremes so saturation and the largest products occur.
        for (int i = 0; i < n; i += 7)
        {
            if (typeof(T) == typeof(byte)) ((byte[])(object)data)[i] = (i & 8) == 0 ? (byte)255 : (byte)0;
            else ((sbyte[])(object)data)[i] = (i & 8) == 0 ? (sbyte)127 : (sbyte)-128;
        }
        return data;
    }

    private static void Run<T>(KernelTable table, in WindowGeometry g, int channels, T[] input, int zpIn, sbyte[] weights,
        int[] bias, float[] scales, QuantizedOutput output, T[] destination, int rowStart, int rowCount) where T : unmanaged
    {
        if (typeof(T) == typeof(byte))
            table.DepthwiseConv(g, channels, (byte[])(object)input, zpIn, weights, bias, scales, output, (byte[])(object)destination, rowStart, rowCount);
        else
            table.DepthwiseConv(g, channels, (sbyte[])(object)input, zpIn, weights, bias, scales, output, (sbyte[])(object)destination, rowStart, rowCount);
    }

    private static void RunPacked<T>(KernelTable table, in WindowGeometry g, int channels, T[] input, int zpIn, DepthwiseWeights weights,
        int[] bias, float[] scales, QuantizedOutput output, T[] destination) where T : unmanaged
    {
        if (typeof(T) == typeof(byte))
            table.DepthwiseConv(g, channels, (byte[])(object)input, zpIn, weights, bias, scales, output, (byte[])(object)destination, 0, g.OutputHeight);
        else
            table.DepthwiseConv(g, channels, (sbyte[])(object)input, zpIn, weights, bias, scales, output, (sbyte[])(object)destination, 0, g.OutputHeight);
    }

    /// <summary>
    /// Scales and biases so large that acc * scale leaves int32 (and an infinite scale), against the scalar reference.
    /// The x86 kernels drop the float upper clamp when it provably cannot matter; here it must be kept, on every
    /// x86 kernel: pixel pairs (3x3 s1, C = 32), kernel rows (s2, C = 64), lane pairs (3x3 s1, C = 16), 5x5 s1 (C = 48),
    /// flat quads (5x5, C = 24).
    /// </summary>
    private static void OutOfInt32Products()
    {
        var rng = Rng(0x3d5);
        foreach (var (g, channels) in new[] { (new WindowGeometry(5, 6, 3, 1, 1), 32), (new WindowGeometry(7, 7, 3, 2, 1), 64),
                     (new WindowGeometry(5, 8, 3, 1, 1), 16), (new WindowGeometry(6, 6, 5, 1, 2), 24), (new WindowGeometry(6, 7, 5, 1, 2), 48) })
        {
            int taps = g.KernelHeight * g.KernelWidth, outCount = g.OutputHeight * g.OutputWidth * channels;
            var weights = SBytes(rng, taps * channels);
            var bias = Ints(rng, channels, -(1 << 30), 1 << 30);
            bias[1] = int.MaxValue - 5;
            bias[2] = int.MinValue + 5;
            var scales = new float[channels];
            for (int c = 0; c < channels; c++) scales[c] = (float)Math.Pow(10, 2 + rng.NextDouble() * 6);
            scales[3] = float.PositiveInfinity;
            scales[4] = 1e-30f;
            var inputU8 = MakeInput<byte>(rng, g.InputHeight * g.InputWidth * channels);
            var inputS8 = MakeInput<sbyte>(rng, inputU8.Length);
            var expectedU8 = new byte[outCount];
            var expectedS8 = new sbyte[outCount];
            Run(Reference, g, channels, inputU8, 77, weights, bias, scales, QuantizedOutput.U8(100).Relu(), expectedU8, 0, g.OutputHeight);
            Run(Reference, g, channels, inputS8, -3, weights, bias, scales, QuantizedOutput.S8(-5), expectedS8, 0, g.OutputHeight);
            Expect.True(expectedU8.Contains((byte)255) && expectedU8.Contains((byte)100), "the case saturates both ways");
            foreach (var table in VectorTables)
            {
                var actualU8 = new byte[outCount];
                var actualS8 = new sbyte[outCount];
                Run(table, g, channels, inputU8, 77, weights, bias, scales, QuantizedOutput.U8(100).Relu(), actualU8, 0, g.OutputHeight);
                Run(table, g, channels, inputS8, -3, weights, bias, scales, QuantizedOutput.S8(-5), actualS8, 0, g.OutputHeight);
                Expect.SequenceEqual<byte>(expectedU8, actualU8, $"{table.Name} huge products u8, {g.KernelHeight}x{g.KernelWidth} s{g.StrideHeight} C = {channels}");
                Expect.SequenceEqual<sbyte>(expectedS8, actualS8, $"{table.Name} huge products s8, {g.KernelHeight}x{g.KernelWidth} s{g.StrideHeight} C = {channels}");
            }
        }
    }

    /// <summary>
    /// The fp32-accumulating kernels (AVX-512 3x3) are exact only while every partial sum stays within 2^24. One 3x3 window
    /// per channel whose first kernel row takes the running sum to an odd value just above 2^24 (a float rounds it) and
    /// whose other rows bring it back to (k + 1/2) x 2^17 with a scale of 2^-17, so one unit of error flips the rounded
    /// output. The bias is below 2^24 itself: a kernel that checked only the bias, or ran in float regardless, fails here
    /// (the check first proves that float accumulation in the kernel's order gives other bytes than the reference).
    /// </summary>
    private static void FloatAccumulationOnlyWhenExact()
    {
        const int channels = 16;
        var g = new WindowGeometry(3, 3, 3, 1, 0);
        var input = new byte[9 * channels];
        var weights = new sbyte[9 * channels];
        var bias = new int[channels];
        var scales = new float[channels];
        for (int c = 0; c < channels; c++)
        {
            const int k = 127;                         // odd: round-half-even goes up, a float sum one too low goes down
            int target = 131072 * k + 65536;           // (k + 1/2) x 2^17
            int b = (1 << 24) - 50005 - 4 * c;         // below 2^24; after two taps the sum is 2^24 + m, m = 1 (mod 4): a float rounds it down
            int[] row0 = [255, 255, 254];              // x (weights 127): the running sum becomes odd past 2^24
            int s0 = b + 127 * (row0[0] + row0[1] + row0[2]);
            int rest = s0 - target;                    // what rows 1 and 2 take away (weights -127 and -1)
            int[] x = [row0[0], row0[1], row0[2], 255, 255, 255, 0, 0, 0];
            int[] w = [127, 127, 127, -127, -127, -127, -127, -1, 0];
            rest -= 3 * 255 * 127;
            x[6] = rest / 127;
            x[7] = rest % 127;
            Expect.True(s0 > 1 << 24 && (s0 & 1) == 1 && x[6] is >= 0 and <= 255, $"channel {c}: construction out of range ({s0}, {x[6]})");
            for (int t = 0; t < 9; t++)
            {
                input[t * channels + c] = (byte)x[t];
                weights[t * channels + c] = (sbyte)w[t];
            }
            bias[c] = b;
            scales[c] = 1f / 131072;
        }
        var output = QuantizedOutput.U8(0);
        var expected = new byte[channels];
        Reference.DepthwiseConv(g, channels, input, 0, weights, bias, scales, output, expected, 0, 1);
        int sensitive = 0;
        for (int c = 0; c < channels; c++)
        {
            float Tap(int t) => input[t * channels + c];
            float Weight(int t) => weights[t * channels + c];
            float s0 = MathF.FusedMultiplyAdd(Tap(2), Weight(2), MathF.FusedMultiplyAdd(Tap(1), Weight(1), MathF.FusedMultiplyAdd(Tap(0), Weight(0), bias[c])));
            float s1 = MathF.FusedMultiplyAdd(Tap(5), Weight(5), MathF.FusedMultiplyAdd(Tap(4), Weight(4), Tap(3) * Weight(3)));
            float s2 = MathF.FusedMultiplyAdd(Tap(8), Weight(8), MathF.FusedMultiplyAdd(Tap(7), Weight(7), Tap(6) * Weight(6)));
            int inFloat = (int)MathF.Round(MathF.Min(MathF.Max((s0 + s1 + s2) * scales[c], 0), 255), MidpointRounding.ToEven);
            if (inFloat != expected[c]) sensitive++;
        }
        Expect.Equal(channels, sensitive, "channels where float accumulation would change the output");
        foreach (var table in VectorTables)
        {
            var actual = new byte[channels];
            table.DepthwiseConv(g, channels, input, 0, weights, bias, scales, output, actual, 0, 1);
            Expect.SequenceEqual<byte>(expected, actual, $"{table.Name}: sums past 2^24");
            var packed = table.PackDepthwise(weights, 9, channels);
            for (int call = 1; call <= 2; call++)
            {
                Array.Clear(actual);
                table.DepthwiseConv(g, channels, input, 0, packed, bias, scales, output, actual, 0, 1);
                Expect.SequenceEqual<byte>(expected, actual, $"{table.Name}: sums past 2^24, prepared weights, call {call}");
            }
        }
    }

    private static void RowSplit()
    {
        var rng = Rng(77);
        // The per-pixel/plane path (C = 19), the kernel-row path's row pairs at stride 1 and 2, the lane-pair ring (C = 16),
        // flat tap groups over row pieces (5x5, C = 64).
        foreach (var (g, channels) in new[] { (new WindowGeometry(13, 10, 3, 2, 1), 19), (new WindowGeometry(11, 12, 3, 1, 1), 32), (new WindowGeometry(17, 10, 3, 2, 1), 64), (new WindowGeometry(11, 12, 3, 1, 1), 16), (new WindowGeometry(12, 9, 5, 1, 2), 64) })
            RowSplit(rng, g, channels);
    }

    private static void RowSplit(Random rng, WindowGeometry g, int channels)
    {
        var input = Bytes(rng, g.InputHeight * g.InputWidth * channels);
        var weights = SBytes(rng, g.KernelHeight * g.KernelWidth * channels);
        var bias = Ints(rng, channels, -3000, 3000);
        var scales = Floats(rng, channels, 0.0005f, 0.002f);
        var output = QuantizedOutput.U8(90);
        int outCount = g.OutputHeight * g.OutputWidth * channels;
        foreach (var table in AllTables)
        {
            var whole = new byte[outCount];
            table.DepthwiseConv(g, channels, input, 31, weights, bias, scales, output, whole, 0, g.OutputHeight);
            var pieces = new byte[outCount];
            // Uneven pieces, in reverse order, as a pool of threads might run them.
            int[] cuts = [0, 1, 4, g.OutputHeight];
            for (int i = cuts.Length - 2; i >= 0; i--)
                table.DepthwiseConv(g, channels, input, 31, weights, bias, scales, output, pieces, cuts[i], cuts[i + 1] - cuts[i]);
            Expect.SequenceEqual<byte>(whole, pieces, $"{table.Name}: rows in pieces, C = {channels}, stride {g.StrideHeight}");
        }
    }

    /// <summary>
    /// The reference against real arithmetic: dequantize, convolve in double, quantize. With power-of-two scales
    /// the float requantization is exact, so the two must agree everywhere; with arbitrary scales, within one step.
    /// </summary>
    private static void ScalarMatchesRealConv()
    {
        var rng = Rng(5);
        var g = new WindowGeometry(6, 5, 3, 2, 1);
        int channels = 3;
        var input = Bytes(rng, g.InputHeight * g.InputWidth * channels);
        var weights = SBytes(rng, 9 * channels);
        var bias = Ints(rng, channels, -500, 500);
        foreach (var (sx, sw, so, tolerance) in new[] { (0.5, 0.25, 8.0, 0), (0.02, 0.013, 0.11, 1) })
        {
            int zpIn = 120, zpOut = 130;
            var scales = new float[channels];
            for (int c = 0; c < channels; c++) scales[c] = (float)(sx * sw / so);
            var actual = new byte[g.OutputHeight * g.OutputWidth * channels];
            Reference.DepthwiseConv(g, channels, input, zpIn, weights, bias, scales, QuantizedOutput.U8(zpOut), actual, 0, g.OutputHeight);
            for (int oy = 0; oy < g.OutputHeight; oy++)
            for (int ox = 0; ox < g.OutputWidth; ox++)
            for (int c = 0; c < channels; c++)
            {
                double real = bias[c] * sx * sw;
                for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++)
                {
                    int iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx;
                    double x = iy < 0 || ix < 0 || iy >= g.InputHeight || ix >= g.InputWidth ? 0.0 : (input[(iy * g.InputWidth + ix) * channels + c] - zpIn) * sx;
                    real += x * weights[(ky * 3 + kx) * channels + c] * sw;
                }
                int want = QuantizeReal(real, so, zpOut, 0, 255);
                int got = actual[(oy * g.OutputWidth + ox) * channels + c];
                Expect.True(Math.Abs(want - got) <= tolerance, $"scales ({sx}, {sw}, {so}) at ({oy},{ox},{c}): real conv gives {want}, kernel {got}");
            }
        }
        // A hand-computed pixel: 1x1 image, 3x3 kernel, pad 1: only the centre tap lands.
        var one = new byte[1];
        Reference.DepthwiseConv(new WindowGeometry(1, 1, 3, 1, 1), 1, [13], 3, [0, 0, 0, 0, 5, 0, 0, 0, 0], [7], [0.5f], QuantizedOutput.U8(1), one, 0, 1);
        Expect.Equal((byte)(Math.Round((7 + 10 * 5) * 0.5, MidpointRounding.ToEven) + 1), one[0], "1x1 image, centre tap"); // 28.5 -> 28, + 1
    }

    private static void BadArguments()
    {
        var table = KernelTable.Current;
        var g = new WindowGeometry(4, 4, 3, 1, 1);
        var e = Expect.Throws<ArgumentException>(() => table.DepthwiseConv(g, 8, new byte[4 * 4 * 8 - 1], 0, new sbyte[72], [], new float[8], QuantizedOutput.U8(0), new byte[128], 0, 4), "short input");
        Expect.True(e.Message.Contains("input") && e.Message.Contains("127"), e.Message);
        e = Expect.Throws<ArgumentException>(() => table.DepthwiseConv(g, 8, new byte[128], 0, new sbyte[71], [], new float[8], QuantizedOutput.U8(0), new byte[128], 0, 4), "short weights");
        Expect.True(e.Message.Contains("weights"), e.Message);
        e = Expect.Throws<ArgumentException>(() => table.DepthwiseConv(new WindowGeometry(2, 2, 5, 1, 0), 8, new byte[32], 0, new sbyte[200], [], new float[8], QuantizedOutput.U8(0), new byte[128], 0, 1), "window too big");
        Expect.True(e.Message.Contains("does not fit"), e.Message);
        var r = Expect.Throws<ArgumentOutOfRangeException>(() => table.DepthwiseConv(g, 8, new byte[128], 0, new sbyte[72], [], new float[8], QuantizedOutput.U8(0), new byte[128], 3, 2), "rows past the end");
        Expect.True(r.Message.Contains("output rows"), r.Message);
        e = Expect.Throws<ArgumentException>(() => table.DepthwiseConv(g, 8, new sbyte[128], 0, new sbyte[72], [], new float[8], QuantizedOutput.U8(200), new sbyte[128], 0, 4), "u8 output for s8 data");
        Expect.True(e.Message.Contains("output range"), e.Message);
        // Prepared weights: for another shape, or for another path's table.
        var packed = table.PackDepthwise(new sbyte[72], 9, 8);
        e = Expect.Throws<ArgumentException>(() => table.DepthwiseConv(g, 16, new byte[256], 0, packed, [], new float[16], QuantizedOutput.U8(0), new byte[256], 0, 4), "weights for 8 channels");
        Expect.True(e.Message.Contains("9 taps x 8 channels") && e.Message.Contains("16 channels"), e.Message);
        e = Expect.Throws<ArgumentException>(() => table.DepthwiseConv(new WindowGeometry(4, 4, 5, 1, 2), 8, new byte[128], 0, packed, [], new float[8], QuantizedOutput.U8(0), new byte[128], 0, 4), "weights for 3x3");
        Expect.True(e.Message.Contains("5x5 taps"), e.Message);
        e = Expect.Throws<ArgumentException>(() => table.PackDepthwise(new sbyte[71], 9, 8), "short weights to prepare");
        Expect.True(e.Message.Contains("weights"), e.Message);
        if (table.Isa != Isa.Scalar)
        {
            var foreign = Reference.PackDepthwise(new sbyte[72], 9, 8);
            e = Expect.Throws<ArgumentException>(() => table.DepthwiseConv(g, 8, new byte[128], 0, foreign, [], new float[8], QuantizedOutput.U8(0), new byte[128], 0, 4), "weights of another path");
            Expect.True(e.Message.Contains("prepared for kernel path 'scalar'"), e.Message);
        }
    }

    private static void FloatPathsMatch()
    {
        var rng = Rng(0x3d3);
        FloatActivation[] activations = [FloatActivation.None, FloatActivation.Relu6, FloatActivation.Clamp(-0.3f, 0.2f)];
        int round = 0;
        foreach (var c in Cases())
        {
            var g = c.Geometry;
            var input = Floats(rng, g.InputHeight * g.InputWidth * c.Channels);
            var weights = Floats(rng, g.KernelHeight * g.KernelWidth * c.Channels);
            float[] bias = round % 2 == 0 ? Floats(rng, c.Channels) : [];
            var activation = activations[round++ % activations.Length];
            var expected = new float[g.OutputHeight * g.OutputWidth * c.Channels];
            Reference.DepthwiseConv(g, c.Channels, input, weights, bias, activation, expected, 0, g.OutputHeight);
            foreach (var table in VectorTables)
            {
                var actual = new float[expected.Length];
                // Rows in two pieces, as two threads would run them.
                int cut = g.OutputHeight / 2;
                table.DepthwiseConv(g, c.Channels, input, weights, bias, activation, actual, cut, g.OutputHeight - cut);
                table.DepthwiseConv(g, c.Channels, input, weights, bias, activation, actual, 0, cut);
                BitEqual(expected, actual, $"{table.Name} float depthwise {c.Name}");
            }
        }
    }

    private static void FloatScalarMatchesDouble()
    {
        var rng = Rng(0x3d4);
        var g = new WindowGeometry(7, 6, 5, 2, 2);
        int channels = 5;
        var input = Floats(rng, g.InputHeight * g.InputWidth * channels);
        var weights = Floats(rng, 25 * channels);
        var bias = Floats(rng, channels);
        var actual = new float[g.OutputHeight * g.OutputWidth * channels];
        Reference.DepthwiseConv(g, channels, input, weights, bias, FloatActivation.None, actual, 0, g.OutputHeight);
        for (int oy = 0; oy < g.OutputHeight; oy++)
        for (int ox = 0; ox < g.OutputWidth; ox++)
        for (int c = 0; c < channels; c++)
        {
            double sum = bias[c];
            for (int ky = 0; ky < 5; ky++)
            for (int kx = 0; kx < 5; kx++)
            {
                int iy = oy * 2 - 2 + ky, ix = ox * 2 - 2 + kx;
                if (iy >= 0 && ix >= 0 && iy < g.InputHeight && ix < g.InputWidth)
                    sum += (double)input[(iy * g.InputWidth + ix) * channels + c] * weights[(ky * 5 + kx) * channels + c];
            }
            float got = actual[(oy * g.OutputWidth + ox) * channels + c];
            // 26 terms of magnitude at most 1, each rounding at most 2^-24 relative.
            Expect.True(Math.Abs(got - sum) <= 26 * 26 * 6e-8, $"float depthwise ({oy},{ox},{c}): double {sum}, kernel {got}");
        }
    }
}
