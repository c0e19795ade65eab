using EdgeAgent.Kernels;
using static EdgeAgent.Checks.Kernels.KernelCheckKit;

namespace EdgeAgent.Checks.Kernels;

/// <summary>
/// One template for the int8 pools: max, average (with and without count_include_pad, scales that differ),
/// global average; every path against the scalar reference bit for bit over windows with padding, stride 2 on
/// odd inputs, ceil mode, dilation, channel counts around the vector steps; then the reference against real math.
/// </summary>
public static class PoolingChecks
{
    public static void Register(List<Check> checks)
    {
        checks.Add(new("kernels", "pool.u8.paths-match-scalar", () => PathsMatch<byte>(301)));
        checks.Add(new("kernels", "pool.s8.paths-match-scalar", () => PathsMatch<sbyte>(302)));
        checks.Add(new("kernels", "pool.scalar-matches-real-math", ScalarMatchesRealMath));
    }

    private static readonly (string Name, WindowGeometry G, int C)[] Cases =
    [
        ("1x1-2x2-pad1-c1", new WindowGeometry(1, 1, 2, 2, 1, 1, 1, 1, 0, 0), 1),
        ("5x5-3x3-s2-p1-c17", new WindowGeometry(5, 5, 3, 2, 1), 17),
        ("7x6-2x2-s2-c32", new WindowGeometry(7, 6, 2, 2, 0), 32),
        ("9x7-3x3-s1-p1-c40", new WindowGeometry(9, 7, 3, 1, 1), 40),
        ("6x6-3x3-s2-ceil-c33", new WindowGeometry(6, 6, 3, 3, 2, 2, 0, 0, 0, 0, ceilMode: true), 33),
        ("8x5-3x2-dil2-c16", new WindowGeometry(8, 5, 3, 2, 1, 1, 1, 0, 1, 0, 2, 2), 16),
        ("4x4-5x5-s1-p2-c3", new WindowGeometry(4, 4, 5, 1, 2), 3),
    ];

    private static T[] Data<T>(Random rng, int n) where T : unmanaged =>
        typeof(T) == typeof(byte) ? (T[])(object)Bytes(rng, n) : (T[])(object)SBytes(rng, n);

    private static void PathsMatch<T>(int seed) where T : unmanaged, IEquatable<T>
    {
        var rng = Rng(seed);
        bool u8 = typeof(T) == typeof(byte);
        int[] zps = u8 ? [0, 128, 255] : [-128, 0, 127];
        foreach (var (name, g, c) in Cases)
        {
            var input = Data<T>(rng, g.InputHeight * g.InputWidth * c);
            int outCount = g.OutputHeight * g.OutputWidth * c;
            var expected = new T[outCount];
            Max(Reference, g, c, input, expected);
            foreach (var table in VectorTables)
            {
                var actual = new T[outCount];
                Max(table, g, c, input, actual);
                Expect.SequenceEqual<T>(expected, actual, $"{table.Name} max pool {name}");
            }
            foreach (int zpIn in zps)
            foreach (bool includePad in new[] { false, true })
            foreach (var (sx, sy) in new[] { (0.1f, 0.1f), (0.1f, 0.037f), (2f, 0.01f) })
            {
                int zpOut = zps[Math.Abs(zpIn + 7) % zps.Length];
                var output = u8 ? QuantizedOutput.U8(zpOut) : QuantizedOutput.S8(zpOut);
                Average(Reference, g, c, input, zpIn, sx, sy, output, includePad, expected);
                foreach (var table in VectorTables)
                {
                    var actual = new T[outCount];
                    Average(table, g, c, input, zpIn, sx, sy, output, includePad, actual);
                    Expect.SequenceEqual<T>(expected, actual, $"{table.Name} average pool {name} zp {zpIn} include-pad {includePad} scales {sx}/{sy}");
                }
                int spatial = g.InputHeight * g.InputWidth;
                var gExpected = new T[c];
                Global(Reference, spatial, c, input, zpIn, sx, sy, output, gExpected, 0, c);
                foreach (var table in VectorTables)
                {
                    var actual = new T[c];
                    // Two channel ranges, as two threads would split them.
                    int cut = c / 2;
                    Global(table, spatial, c, input, zpIn, sx, sy, output, actual, cut, c - cut);
                    Global(table, spatial, c, input, zpIn, sx, sy, output, actual, 0, cut);
                    Expect.SequenceEqual<T>(gExpected, actual, $"{table.Name} global average pool {name} zp {zpIn}");
                }
            }
        }
    }

    private static void Max<T>(KernelTable t, in WindowGeometry g, int c, T[] x, T[] y) where T : unmanaged
    {
        if (typeof(T) == typeof(byte)) t.MaxPool(g, c, (byte[])(object)x, (byte[])(object)y, 0, g.OutputHeight);
        else t.MaxPool(g, c, (sbyte[])(object)x, (sbyte[])(object)y, 0, g.OutputHeight);
    }

    private static void Average<T>(KernelTable t, in WindowGeometry g, int c, T[] x, int zp, float sx, float sy, QuantizedOutput o, bool includePad, T[] y) where T : unmanaged
    {
        if (typeof(T) == typeof(byte)) t.AveragePool(g, c, (byte[])(object)x, zp, sx, sy, o, includePad, (byte[])(object)y, 0, g.OutputHeight);
        else t.AveragePool(g, c, (sbyte[])(object)x, zp, sx, sy, o, includePad, (sbyte[])(object)y, 0, g.OutputHeight);
    }

    private static void Global<T>(KernelTable t, int spatial, int c, T[] x, int zp, float sx, float sy, QuantizedOutput o, T[] y, int start, int count) where T : unmanaged
    {
        if (typeof(T) == typeof(byte)) t.GlobalAveragePool(spatial, c, (byte[])(object)x, zp, sx, sy, o, (byte[])(object)y, start, count);
        else t.GlobalAveragePool(spatial, c, (sbyte[])(object)x, zp, sx, sy, o, (sbyte[])(object)y, start, count);
    }

    private static void ScalarMatchesRealMath()
    {
        var rng = Rng(303);
        var g = new WindowGeometry(5, 4, 3, 3, 2, 2, 1, 1, 1, 1);
        int c = 2, zpIn = 100, zpOut = 90;
        float sx = 0.05f, sy = 0.04f;
        var x = Bytes(rng, g.InputHeight * g.InputWidth * c);
        var max = new byte[g.OutputHeight * g.OutputWidth * c];
        Reference.MaxPool(g, c, x, max, 0, g.OutputHeight);
        foreach (bool includePad in new[] { false, true })
        {
            var avg = new byte[max.Length];
            Reference.AveragePool(g, c, x, zpIn, sx, sy, QuantizedOutput.U8(zpOut), includePad, avg, 0, g.OutputHeight);
            for (int oy = 0; oy < g.OutputHeight; oy++)
            for (int ox = 0; ox < g.OutputWidth; ox++)
            for (int ch = 0; ch < c; ch++)
            {
                int m = 0, inside = 0;
                double sum = 0;
                for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++)
                {
                    int iy = oy * 2 - 1 + ky, ix = ox * 2 - 1 + kx;
                    if (iy < 0 || ix < 0 || iy >= g.InputHeight || ix >= g.InputWidth) continue;
                    int v = x[(iy * g.InputWidth + ix) * c + ch];
                    m = Math.Max(m, v);
                    sum += sx * (v - zpIn);
                    inside++;
                }
                int at = (oy * g.OutputWidth + ox) * c + ch;
                Expect.Equal((byte)m, max[at], $"max pool at ({oy},{ox},{ch})");
                int want = QuantizeReal(sum / (includePad ? 9 : inside), sy, zpOut, 0, 255);
                Expect.True(Math.Abs(want - avg[at]) <= 1, $"average pool include-pad={includePad} at ({oy},{ox},{ch}): real {want}, kernel {avg[at]}");
            }
        }
        // Hand-computed global average: values 1, 2, 3, 6 with zp 0 and equal scales average to 3.
        var gap = new byte[1];
        Reference.GlobalAveragePool(4, 1, [1, 2, 3, 6], 0, 0.5f, 0.5f, QuantizedOutput.U8(0), gap, 0, 1);
        Expect.Equal((byte)3, gap[0], "global average of 1, 2, 3, 6");
        // Ceil mode adds a last, partial window: 5 wide, kernel 2, stride 2 -> 3 outputs.
        Expect.Equal(3, new WindowGeometry(5, 5, 2, 2, 2, 2, 0, 0, 0, 0, ceilMode: true).OutputWidth, "ceil-mode output width");
        Expect.Equal(2, new WindowGeometry(5, 5, 2, 2, 2, 2, 0, 0, 0, 0).OutputWidth, "floor-mode output width");
    }
}
