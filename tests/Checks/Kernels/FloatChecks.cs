using EdgeAgent.Kernels;
using static EdgeAgent.Checks.Kernels.KernelCheckKit;

namespace EdgeAgent.Checks.Kernels;

/// <summary>
/// One template per float family (SGEMM and the transposed products, softmax/log-softmax, reductions): every
/// path against the scalar reference bit for bit over shapes around the tile sizes (6 and 12 rows, 16-column
/// panels, 16-lane sums), then the scalar reference against double-precision math.
/// </summary>
public static class FloatChecks
{
    public static void Register(List<Check> checks)
    {
        checks.Add(new("kernels", "sgemm.paths-match-scalar", SgemmPathsMatch));
        checks.Add(new("kernels", "sgemm.row-and-panel-split-is-invisible", SgemmSplit));
        checks.Add(new("kernels", "sgemm.scalar-matches-double", SgemmScalarMatchesDouble));
        checks.Add(new("kernels", "matmul.transposed-paths-match-scalar", MatMulPathsMatch));
        checks.Add(new("kernels", "matmul.transposes-equal-explicit-transposition", MatMulTransposition));
        checks.Add(new("kernels", "softmax.paths-match-scalar", SoftmaxPathsMatch));
        checks.Add(new("kernels", "softmax.scalar-matches-double", SoftmaxScalarMatchesDouble));
        checks.Add(new("kernels", "reduce.paths-match-scalar", ReducePathsMatch));
        checks.Add(new("kernels", "reduce.scalar-matches-double", ReduceScalarMatchesDouble));
    }

    private static readonly (int M, int N, int K)[] GemmShapes =
    [
        (1, 1, 1), (1, 16, 1), (2, 3, 2), (5, 17, 3), (6, 16, 7), (7, 33, 64), (12, 32, 5), (13, 40, 19), (25, 47, 9), (4, 10, 130),
        // Wide enough for the leftover-row path across panel groups (64 columns on NEON/AVX2, 128 on AVX-512).
        (1, 64, 5), (3, 130, 9), (13, 200, 7),
    ];

    private static readonly FloatActivation[] Activations =
        [FloatActivation.None, FloatActivation.Relu, FloatActivation.Relu6, FloatActivation.Clamp(-0.25f, 0.5f)];

    private static void SgemmPathsMatch()
    {
        var rng = Rng(101);
        foreach (var (m, n, k) in GemmShapes)
        {
            int lda = k + (m % 3), ldc = n + 1;
            var a = Floats(rng, (m - 1) * lda + k);
            var b = Floats(rng, k * n);
            var bias = Floats(rng, n, -2f, 2f);
            var packed = new float[SgemmPacking.PackedLength(k, n)];
            SgemmPacking.Pack(b, n, k, n, packed);
            var bt = Transpose(b, k, n);
            var packedT = new float[packed.Length];
            SgemmPacking.PackTransposed(bt, k, k, n, packedT);
            BitEqual(packed, packedT, $"pack vs pack-transposed, {m}x{n}x{k}");
            for (int act = 0; act < Activations.Length; act++)
            {
                float[] useBias = act % 2 == 0 ? bias : [];
                var expected = Filled((m - 1) * ldc + n, 7f);
                Reference.Sgemm(m, n, k, a, lda, packed, useBias, expected, ldc, Activations[act]);
                foreach (var table in VectorTables)
                {
                    var actual = Filled(expected.Length, 7f);
                    table.Sgemm(m, n, k, a, lda, packed, useBias, actual, ldc, Activations[act]);
                    BitEqual(expected, actual, $"{table.Name} SGEMM M={m} N={n} K={k} activation {act}");
                }
            }
        }
    }

    private static void SgemmSplit()
    {
        var rng = Rng(102);
        int m = 19, n = 50, k = 23;
        var a = Floats(rng, m * k);
        var packed = new float[SgemmPacking.PackedLength(k, n)];
        SgemmPacking.Pack(Floats(rng, k * n), n, k, n, packed);
        var bias = Floats(rng, n);
        foreach (var table in AllTables)
        {
            var whole = new float[m * n];
            table.Sgemm(m, n, k, a, k, packed, bias, whole, n, FloatActivation.Relu);
            var pieces = new float[m * n];
            // Rows 0..6 then 7..18, each split into panels [0, 32) and [32, 50).
            foreach (var (r0, rows) in new[] { (7, 12), (0, 7) })
            foreach (var (c0, cols) in new[] { (32, 18), (0, 32) })
            {
                table.Sgemm(rows, cols, k, a.AsSpan(r0 * k), k, packed.AsSpan(SgemmPacking.PanelOffset(c0, k)), bias.AsSpan(c0),
                    pieces.AsSpan(r0 * n + c0), n, FloatActivation.Relu);
            }
            BitEqual(whole, pieces, $"{table.Name}: SGEMM in row and panel pieces");
        }
    }

    private static void SgemmScalarMatchesDouble()
    {
        var rng = Rng(103);
        int m = 9, n = 21, k = 37;
        var a = Floats(rng, m * k);
        var b = Floats(rng, k * n);
        var bias = Floats(rng, n);
        var packed = new float[SgemmPacking.PackedLength(k, n)];
        SgemmPacking.Pack(b, n, k, n, packed);
        var c = new float[m * n];
        Reference.Sgemm(m, n, k, a, k, packed, bias, c, n, FloatActivation.Clamp(-1.5f, 2f));
        for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++)
        {
            double sum = bias[j], magnitude = Math.Abs(bias[j]);
            for (int kk = 0; kk < k; kk++)
            {
                sum += (double)a[i * k + kk] * b[kk * n + j];
                magnitude += Math.Abs((double)a[i * k + kk] * b[kk * n + j]);
            }
            double want = Math.Clamp(sum, -1.5, 2.0);
            double tolerance = (k + 1) * magnitude * 6e-8 + 1e-7;
            Expect.True(Math.Abs(want - c[i * n + j]) <= tolerance, $"SGEMM [{i},{j}]: double {want}, kernel {c[i * n + j]}");
        }
        // A hand-computed product: [1 2; 3 4] x [5 6; 7 8] + [1, -1].
        var p = new float[SgemmPacking.PackedLength(2, 2)];
        SgemmPacking.Pack([5, 6, 7, 8], 2, 2, 2, p);
        var small = new float[4];
        Reference.Sgemm(2, 2, 2, [1, 2, 3, 4], 2, p, [1, -1], small, 2, FloatActivation.None);
        BitEqual([20f, 21f, 44f, 49f], small, "2x2 product");
    }

    private static void MatMulPathsMatch()
    {
        var rng = Rng(104);
        foreach (var (m, n, k) in GemmShapes)
        foreach (bool ta in new[] { false, true })
        foreach (bool tb in new[] { false, true })
        foreach (bool accumulate in new[] { false, true })
        {
            int lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 1, ldc = n + 3;
            var a = Floats(rng, ((ta ? k : m) - 1) * lda + (ta ? m : k));
            var b = Floats(rng, ((tb ? n : k) - 1) * ldb + (tb ? k : n));
            var start = Floats(rng, (m - 1) * ldc + n);
            var expected = (float[])start.Clone();
            Reference.MatMul(ta, tb, m, n, k, a, lda, b, ldb, expected, ldc, accumulate);
            foreach (var table in VectorTables)
            {
                var actual = (float[])start.Clone();
                table.MatMul(ta, tb, m, n, k, a, lda, b, ldb, actual, ldc, accumulate, new float[KernelTable.MatMulScratchLength(k)]);
                BitEqual(expected, actual, $"{table.Name} MatMul transA={ta} transB={tb} accumulate={accumulate} M={m} N={n} K={k}");
            }
        }
    }

    private static void MatMulTransposition()
    {
        var rng = Rng(105);
        int m = 8, n = 19, k = 13;
        var a = Floats(rng, m * k);
        var b = Floats(rng, k * n);
        var at = Transpose(a, m, k);
        var bt = Transpose(b, k, n);
        foreach (var table in AllTables)
        {
            var plain = new float[m * n];
            table.MatMul(false, false, m, n, k, a, k, b, n, plain, n, false);
            var viaAt = new float[m * n];
            table.MatMulTransposedA(m, n, k, at, m, b, n, viaAt, n, false);
            var viaBt = new float[m * n];
            table.MatMulTransposedB(m, n, k, a, k, bt, k, viaBt, n, false);
            BitEqual(plain, viaAt, $"{table.Name}: Aᵀ·B with A stored transposed");
            BitEqual(plain, viaBt, $"{table.Name}: A·Bᵀ with B stored transposed");
            // Accumulating twice equals one product plus itself only up to rounding; accumulating onto zeros is exact.
            var acc = new float[m * n];
            table.MatMul(false, false, m, n, k, a, k, b, n, acc, n, true);
            BitEqual(plain, acc, $"{table.Name}: accumulate onto zeros");
            // The SGEMM entry with packed B and no bias gives the same chains.
            var packed = new float[SgemmPacking.PackedLength(k, n)];
            SgemmPacking.Pack(b, n, k, n, packed);
            var viaSgemm = new float[m * n];
            table.Sgemm(m, n, k, a, k, packed, [], viaSgemm, n, FloatActivation.None);
            BitEqual(plain, viaSgemm, $"{table.Name}: MatMul equals SGEMM");
        }
    }

    private static readonly int[] RowLengths = [1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 100, 257];

    private static void SoftmaxPathsMatch()
    {
        var rng = Rng(106);
        foreach (int len in RowLengths)
        foreach (float spread in new[] { 1f, 30f, 200f })
        {
            int rows = 3;
            var x = Floats(rng, rows * len, -spread, spread);
            foreach (bool log in new[] { false, true })
            {
                var expected = new float[x.Length];
                Run(Reference, log, x, expected, len);
                foreach (var table in VectorTables)
                {
                    var actual = new float[x.Length];
                    Run(table, log, x, actual, len);
                    BitEqual(expected, actual, $"{table.Name} {(log ? "log-softmax" : "softmax")} row {len} spread {spread}");
                    var inPlace = (float[])x.Clone();
                    Run(table, log, inPlace, inPlace, len);
                    BitEqual(expected, inPlace, $"{table.Name} in place, row {len}");
                }
            }
        }

        static void Run(KernelTable t, bool log, float[] x, float[] y, int len)
        {
            if (log) t.LogSoftmax(x, y, len, 0, x.Length / len);
            else t.Softmax(x, y, len, 0, x.Length / len);
        }
    }

    private static void SoftmaxScalarMatchesDouble()
    {
        var rng = Rng(107);
        foreach (int len in RowLengths)
        {
            var x = Floats(rng, len, -20f, 20f);
            var y = new float[len];
            var ly = new float[len];
            Reference.Softmax(x, y, len, 0, 1);
            Reference.LogSoftmax(x, ly, len, 0, 1);
            double max = x.Max(), sum = x.Sum(v => Math.Exp(v - max));
            double total = 0;
            for (int i = 0; i < len; i++)
            {
                double want = Math.Exp(x[i] - max) / sum;
                // Rounding x - max to float alone moves exp by |x - max| * 2^-24 relative.
                double relative = 1e-6 + Math.Abs(x[i] - max) * 1.2e-7;
                Expect.True(Math.Abs(y[i] - want) <= relative * want + 1e-30, $"softmax row {len} [{i}]: double {want}, kernel {y[i]}");
                double wantLog = x[i] - max - Math.Log(sum);
                Expect.True(Math.Abs(ly[i] - wantLog) <= 1e-5 * Math.Max(1, Math.Abs(wantLog)), $"log-softmax row {len} [{i}]: double {wantLog}, kernel {ly[i]}");
                total += y[i];
            }
            Expect.True(Math.Abs(total - 1) <= 1e-5, $"softmax row {len} sums to {total}");
        }
        // Hand-computed: two equal logits give one half each; a -inf logit gives exactly 0.
        var half = new float[2];
        Reference.Softmax([3f, 3f], half, 2, 0, 1);
        BitEqual([0.5f, 0.5f], half, "equal logits");
        var masked = new float[3];
        Reference.Softmax([0f, float.NegativeInfinity, 0f], masked, 3, 0, 1);
        BitEqual([0.5f, 0f, 0.5f], masked, "masked logit");
        // The exponential itself over its whole range: within 3 ulp of double exp.
        foreach (var table in AllTables)
        {
            for (float v = -87f; v <= 0f; v += 0.37f)
            {
                var pair = new float[2];
                table.Softmax([v, 0f], pair, 2, 0, 1);
                double want = Math.Exp(v) / (1 + Math.Exp(v));
                Expect.True(Math.Abs(pair[0] - want) <= 4e-7 * want, $"{table.Name}: softmax([{v}, 0])[0] = {pair[0]}, double {want}");
            }
        }
    }

    private static readonly (int Outer, int Axis, int Inner)[] ReduceShapes =
        [(1, 1, 1), (3, 17, 1), (2, 100, 1), (1, 16, 1), (4, 5, 3), (2, 7, 9), (1, 33, 16), (3, 1, 5), (2, 3, 17)];

    private static void ReducePathsMatch()
    {
        var rng = Rng(108);
        foreach (var (outer, axis, inner) in ReduceShapes)
        {
            var x = Floats(rng, outer * axis * inner, -100f, 100f);
            foreach (var kind in new[] { ReduceKind.Sum, ReduceKind.Mean, ReduceKind.Max })
            {
                var expected = new float[outer * inner];
                Reference.Reduce(kind, x, expected, axis, inner, 0, outer);
                foreach (var table in VectorTables)
                {
                    var actual = new float[outer * inner];
                    table.Reduce(kind, x, actual, axis, inner, 0, outer);
                    BitEqual(expected, actual, $"{table.Name} {kind} over [{outer},{axis},{inner}]");
                }
            }
        }
    }

    private static void ReduceScalarMatchesDouble()
    {
        var rng = Rng(109);
        foreach (var (outer, axis, inner) in ReduceShapes)
        {
            var x = Floats(rng, outer * axis * inner, -100f, 100f);
            var sum = new float[outer * inner];
            var mean = new float[outer * inner];
            var max = new float[outer * inner];
            Reference.Reduce(ReduceKind.Sum, x, sum, axis, inner, 0, outer);
            Reference.Reduce(ReduceKind.Mean, x, mean, axis, inner, 0, outer);
            Reference.Reduce(ReduceKind.Max, x, max, axis, inner, 0, outer);
            for (int o = 0; o < outer; o++)
            for (int j = 0; j < inner; j++)
            {
                double s = 0, m = double.NegativeInfinity;
                for (int a = 0; a < axis; a++)
                {
                    float v = x[(o * axis + a) * inner + j];
                    s += v;
                    m = Math.Max(m, v);
                }
                int at = o * inner + j;
                double tolerance = axis * 100 * 1.2e-7;
                Expect.True(Math.Abs(sum[at] - s) <= tolerance, $"sum [{outer},{axis},{inner}] at {at}: double {s}, kernel {sum[at]}");
                Expect.True(Math.Abs(mean[at] - s / axis) <= tolerance / axis + 1e-5, $"mean at {at}: double {s / axis}, kernel {mean[at]}");
                Expect.Equal((float)m, max[at], $"max [{outer},{axis},{inner}] at {at}");
            }
        }
    }

    private static float[] Transpose(float[] src, int rows, int cols)
    {
        var t = new float[src.Length];
        for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            t[c * rows + r] = src[r * cols + c];
        return t;
    }

    private static float[] Filled(int n, float v)
    {
        var a = new float[n];
        Array.Fill(a, v);
        return a;
    }
}
