using EdgeAgent.Kernels;
using static EdgeAgent.Checks.Kernels.KernelCheckKit;

namespace EdgeAgent.Checks.Kernels;

/// <summary>
/// Templates for QLinearAdd/QLinearMul with broadcasting and for the int8 lookup-table activations: every path
/// against the scalar reference bit for bit (same shapes, row broadcasts, scalar operands on either side,
/// lengths around the 16/32/64-byte steps, extreme zero points and scales, saturation), the broadcast walker
/// against a naive index computation, and the tables against the real functions.
/// </summary>
public static class ElementwiseChecks
{
    public static void Register(List<Check> checks)
    {
        checks.Add(new("kernels", "qlinear-binary.u8.paths-match-scalar", () => BinaryPathsMatch<byte>(201)));
        checks.Add(new("kernels", "qlinear-binary.s8.paths-match-scalar", () => BinaryPathsMatch<sbyte>(202)));
        checks.Add(new("kernels", "qlinear-binary.scalar-matches-real-math", BinaryScalarMatchesRealMath));
        checks.Add(new("kernels", "qlinear-binary.broadcast-shapes", BroadcastShapes));
        checks.Add(new("kernels", "lookup.paths-match-scalar", LookupPathsMatch));
        checks.Add(new("kernels", "lookup.tables-match-real-functions", LookupTablesMatchFunctions));
    }

    private static readonly (int[] A, int[] B)[] Shapes =
    [
        ([1], [1]), ([5], [5]), ([16], [16]), ([33], [33]), ([3, 47], [3, 47]), ([100], [1]), ([1], [77]),
        ([4, 19], [19]), ([2, 3, 40], [3, 1]), ([2, 1, 18], [1, 5, 18]), ([6, 1], [1, 17]), ([2, 16, 3], [2, 1, 3]), ([1, 1, 65], []),
    ];

    private sealed record Quant(string Name, float Sa, int Za, float Sb, int Zb, float Sc, int Zc, bool Relu);

    private static Quant[] Quants<T>() => typeof(T) == typeof(byte)
        ?
        [
            new("typical", 0.02f, 128, 0.03f, 120, 0.04f, 128, false),
            new("zp-extremes", 0.05f, 0, 0.01f, 255, 0.02f, 255, false),
            new("saturating", 0.5f, 3, 0.7f, 250, 0.001f, 10, false),
            new("tiny-output-range", 1e-4f, 200, 2e-4f, 7, 50f, 0, true),
            new("relu", 0.1f, 100, 0.1f, 150, 0.1f, 30, true),
        ]
        :
        [
            new("typical", 0.02f, 0, 0.03f, -5, 0.04f, 3, false),
            new("zp-extremes", 0.05f, -128, 0.01f, 127, 0.02f, -128, false),
            new("saturating", 0.5f, 100, 0.7f, -100, 0.001f, 0, false),
            new("relu", 0.1f, 20, 0.1f, -30, 0.1f, -10, true),
        ];

    private static QLinearBinaryParams Params<T>(Quant q)
    {
        var o = typeof(T) == typeof(byte) ? QuantizedOutput.U8(q.Zc) : QuantizedOutput.S8(q.Zc);
        return new(q.Sa, q.Za, q.Sb, q.Zb, q.Sc, q.Relu ? o.Relu() : o);
    }

    private static T[] Data<T>(Random rng, int n) where T : unmanaged
    {
        if (typeof(T) == typeof(byte))
        {
            var d = Bytes(rng, n);
            for (int i = 0; i < n; i += 9) d[i] = (i & 1) == 0 ? (byte)0 : (byte)255;
            return (T[])(object)d;
        }
        var s = SBytes(rng, n);
        for (int i = 0; i < n; i += 9) s[i] = (i & 1) == 0 ? (sbyte)-128 : (sbyte)127;
        return (T[])(object)s;
    }

    private static void Binary<T>(KernelTable t, QLinearBinaryOp op, BroadcastPlan plan, T[] a, T[] b, in QLinearBinaryParams q, T[] c, int start, int count) where T : unmanaged
    {
        if (typeof(T) == typeof(byte)) t.QLinearBinary(op, plan, (byte[])(object)a, (byte[])(object)b, q, (byte[])(object)c, start, count);
        else t.QLinearBinary(op, plan, (sbyte[])(object)a, (sbyte[])(object)b, q, (sbyte[])(object)c, start, count);
    }

    private static void BinaryPathsMatch<T>(int seed) where T : unmanaged, IEquatable<T>
    {
        var rng = Rng(seed);
        foreach (var (aShape, bShape) in Shapes)
        {
            var plan = BroadcastPlan.Create(aShape, bShape);
            var a = Data<T>(rng, plan.ALength);
            var b = Data<T>(rng, plan.BLength);
            foreach (var op in new[] { QLinearBinaryOp.Add, QLinearBinaryOp.Mul })
            foreach (var quant in Quants<T>())
            {
                var q = Params<T>(quant);
                var expected = new T[plan.OutputLength];
                Binary(Reference, op, plan, a, b, q, expected, 0, plan.OutputLength);
                foreach (var table in VectorTables)
                {
                    var actual = new T[plan.OutputLength];
                    Binary(table, op, plan, a, b, q, actual, 0, plan.OutputLength);
                    Expect.SequenceEqual<T>(expected, actual, $"{table.Name} {op} [{string.Join(",", aShape)}]x[{string.Join(",", bShape)}] {quant.Name}");
                    // The same output computed in three uneven pieces (as threads would).
                    var pieces = new T[plan.OutputLength];
                    int cut1 = plan.OutputLength / 3, cut2 = plan.OutputLength * 2 / 3 + 1;
                    cut2 = Math.Min(cut2, plan.OutputLength);
                    Binary(table, op, plan, a, b, q, pieces, cut2, plan.OutputLength - cut2);
                    Binary(table, op, plan, a, b, q, pieces, 0, cut1);
                    Binary(table, op, plan, a, b, q, pieces, cut1, cut2 - cut1);
                    Expect.SequenceEqual<T>(expected, pieces, $"{table.Name} {op} in pieces [{string.Join(",", aShape)}]x[{string.Join(",", bShape)}]");
                }
            }
        }
    }

    /// <summary>The reference against dequantize / compute in double / quantize: equal up to one step at ties.</summary>
    private static void BinaryScalarMatchesRealMath()
    {
        var rng = Rng(203);
        var plan = BroadcastPlan.Create([3, 50], [50]);
        var a = Bytes(rng, plan.ALength);
        var b = Bytes(rng, plan.BLength);
        var q = new QLinearBinaryParams(0.037f, 131, 0.021f, 97, 0.045f, QuantizedOutput.U8(119));
        foreach (var op in new[] { QLinearBinaryOp.Add, QLinearBinaryOp.Mul })
        {
            var c = new byte[plan.OutputLength];
            var qq = op == QLinearBinaryOp.Mul ? q with { OutputScale = 0.3f } : q;
            Reference.QLinearBinary(op, plan, a, b, qq, c, 0, c.Length);
            for (int i = 0; i < c.Length; i++)
            {
                double x = qq.AScale * (a[i] - qq.AZeroPoint), y = qq.BScale * (b[i % 50] - qq.BZeroPoint);
                double real = op == QLinearBinaryOp.Add ? x + y : x * y;
                int want = QuantizeReal(real, qq.OutputScale, 119, 0, 255);
                Expect.True(Math.Abs(want - c[i]) <= 1, $"{op} at {i}: real math gives {want}, kernel {c[i]}");
            }
        }
        // Hand-computed with exact binary scales: (10 - 2) * 0.5 + (7 - 3) * 0.25 = 5 -> 5 / 0.5 + 1 = 11.
        var one = new byte[1];
        Reference.QLinearBinary(QLinearBinaryOp.Add, BroadcastPlan.Create([1], [1]), [10], [7], new QLinearBinaryParams(0.5f, 2, 0.25f, 3, 0.5f, QuantizedOutput.U8(1)), one, 0, 1);
        Expect.Equal((byte)11, one[0], "hand-computed add");
        Reference.QLinearBinary(QLinearBinaryOp.Mul, BroadcastPlan.Create([1], [1]), [10], [7], new QLinearBinaryParams(0.5f, 2, 0.25f, 3, 0.5f, QuantizedOutput.U8(1)), one, 0, 1);
        Expect.Equal((byte)9, one[0], "hand-computed mul"); // 4 * 1 = 4 -> 8 + 1
    }

    /// <summary>The broadcast walker against naive index arithmetic, using Add with unit scales as an identity-like probe.</summary>
    private static void BroadcastShapes()
    {
        var rng = Rng(204);
        var q = new QLinearBinaryParams(1f, 0, 1f, 0, 1f, QuantizedOutput.S8(0));
        foreach (var (aShape, bShape) in Shapes)
        {
            var plan = BroadcastPlan.Create(aShape, bShape);
            var a = SBytes(rng, plan.ALength, -60, 60);
            var b = SBytes(rng, plan.BLength, -60, 60);
            var c = new sbyte[plan.OutputLength];
            KernelTable.Current.QLinearBinary(QLinearBinaryOp.Add, plan, a, b, q, c, 0, c.Length);
            var outShape = plan.OutputShape.ToArray();
            for (int flat = 0; flat < c.Length; flat++)
            {
                int want = a[SourceIndex(flat, outShape, aShape)] + b[SourceIndex(flat, outShape, bShape)];
                Expect.Equal(want, (int)c[flat], $"[{string.Join(",", aShape)}]x[{string.Join(",", bShape)}] at {flat}");
            }
        }
        var e = Expect.Throws<ArgumentException>(() => BroadcastPlan.Create([2, 3], [4, 3]), "incompatible shapes");
        Expect.True(e.Message.Contains("[2,3]") && e.Message.Contains("[4,3]"), e.Message);
        Expect.Equal(24, BroadcastPlan.Create([2, 1, 4], [3, 1]).OutputLength, "output length of [2,1,4] x [3,1]");
    }

    private static int SourceIndex(int flat, int[] outShape, int[] shape)
    {
        int index = 0, stride = 1;
        for (int d = outShape.Length - 1; d >= 0; d--)
        {
            int coord = flat % outShape[d];
            flat /= outShape[d];
            int sd = d - (outShape.Length - shape.Length);
            if (sd < 0) continue;
            if (shape[sd] != 1) index += coord * stride;
            stride *= shape[sd];
        }
        return index;
    }

    private static void LookupPathsMatch()
    {
        var rng = Rng(205);
        var u8 = Int8LookupTable.Sigmoid(Int8Kind.U8, 0.1f, 128, 1f / 256, 0);
        var s8 = Int8LookupTable.Tanh(Int8Kind.S8, 0.03f, -7, 1f / 128, 0);
        foreach (int n in new[] { 0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 256, 1000 })
        {
            var x = Bytes(rng, n);
            for (int i = 0; i < Math.Min(n, 256); i++) x[i] = (byte)i; // every index, in order
            var expected = new byte[n];
            Reference.Lookup(u8, x, expected);
            var xs = SBytes(rng, n);
            var expectedS = new sbyte[n];
            Reference.Lookup(s8, xs, expectedS);
            for (int i = 0; i < n; i++) Expect.Equal(u8[x[i]], expected[i], $"scalar lookup at {i}");
            foreach (var table in VectorTables)
            {
                var actual = new byte[n];
                table.Lookup(u8, x, actual);
                Expect.SequenceEqual<byte>(expected, actual, $"{table.Name} u8 lookup n={n}");
                var actualS = new sbyte[n];
                table.Lookup(s8, xs, actualS);
                Expect.SequenceEqual<sbyte>(expectedS, actualS, $"{table.Name} s8 lookup n={n}");
                var inPlace = (byte[])x.Clone();
                table.Lookup(u8, inPlace, inPlace);
                Expect.SequenceEqual<byte>(expected, inPlace, $"{table.Name} in-place lookup n={n}");
            }
        }
        Expect.Throws<ArgumentException>(() => Reference.Lookup(s8, new byte[4], new byte[4]), "s8 table on u8 data");
    }

    private static void LookupTablesMatchFunctions()
    {
        float sx = 0.05f, sy = 1f / 128;
        var cases = new (string Name, Int8LookupTable Table, Func<double, double> F, float Sy, int Zy)[]
        {
            ("sigmoid", Int8LookupTable.Sigmoid(Int8Kind.U8, sx, 128, 1f / 256, 0), x => 1 / (1 + Math.Exp(-x)), 1f / 256, 0),
            ("tanh", Int8LookupTable.Tanh(Int8Kind.U8, sx, 128, sy, 128), Math.Tanh, sy, 128),
            ("hardsigmoid", Int8LookupTable.HardSigmoid(Int8Kind.U8, sx, 128, 1f / 256, 0), x => Math.Clamp(0.2 * x + 0.5, 0, 1), 1f / 256, 0),
            ("hardswish", Int8LookupTable.HardSwish(Int8Kind.U8, sx, 128, 0.05f, 10), x => x * Math.Clamp(x / 6 + 0.5, 0, 1), 0.05f, 10),
            ("leakyrelu", Int8LookupTable.LeakyRelu(Int8Kind.U8, sx, 128, sx, 128, 0.1f), x => x >= 0 ? x : 0.1 * x, sx, 128),
        };
        foreach (var (name, table, f, outScale, zy) in cases)
        {
            for (int q = 0; q < 256; q++)
            {
                double real = f(sx * (q - 128));
                int want = QuantizeReal(real, outScale, zy, 0, 255);
                Expect.True(Math.Abs(want - table[q]) <= 1, $"{name}({q}): real function gives {want}, table {table[q]}");
            }
        }
        // Hand-computed entries: sigmoid(0) = 0.5 -> 128 at scale 1/256; leaky ReLU of -10 steps (bit pattern 246) with
        // alpha 0.5 -> -5 steps; -128 is bit pattern 128.
        Expect.Equal((byte)128, cases[0].Table[128], "sigmoid(0)");
        var leaky = Int8LookupTable.LeakyRelu(Int8Kind.S8, 0.25f, 0, 0.25f, 0, 0.5f);
        Expect.Equal((sbyte)-5, (sbyte)leaky[246], "leaky relu(-10 steps)");
        Expect.Equal((sbyte)127, (sbyte)leaky[127], "leaky relu(127 steps)");
        Expect.Equal((sbyte)-64, (sbyte)leaky[128], "leaky relu(-128 steps)");
    }
}
