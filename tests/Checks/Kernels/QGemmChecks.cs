using EdgeAgent.Kernels;

namespace EdgeAgent.Checks.Kernels;

/// <summary>
/// The QGEMM check template: every path this CPU supports (<see cref="KernelTable.AllSupported"/>) against
/// <see cref="QGemmReference"/>, bit for bit. A new path is checked the moment it is in the table.
/// </summary>
public static class QGemmChecks
{
    private static readonly int[] ZeroPointsU8 = [0, 255, 1, 128];
    private static readonly int[] ZeroPointsS8 = [-128, 127, 0, -1];
    private static readonly Lazy<WorkerPool[]> s_pools = new(() => [new WorkerPool(2), new WorkerPool(3)]);

    public static void Register(List<Check> checks)
    {
        foreach (var isa in CpuFeatures.Host.SupportedIsas)
        {
            string name = isa.ToName();
            checks.Add(new("kernels", $"qgemm.{name}.shapes", () => RunAll(isa, ShapeCases(), threads: false)));
            checks.Add(new("kernels", $"qgemm.{name}.epilogues", () => RunAll(isa, EpilogueCases(), threads: false)));
            checks.Add(new("kernels", $"qgemm.{name}.threads", () => RunAll(isa, ThreadCases(), threads: true)));
            checks.Add(new("kernels", $"qgemm.{name}.register-epilogue", () => RunAll(isa, RegisterEpilogueCases(), threads: false)));
        }
        checks.Add(new("kernels", "qgemm.argument-errors", ArgumentErrors));
    }

    private static void RunAll(Isa isa, IEnumerable<QGemmCase> cases, bool threads)
    {
        var table = KernelTable.For(isa);
        foreach (var c in cases)
        {
            c.Verify(table, null);
            if (threads)
                foreach (var pool in s_pools.Value) c.Verify(table, pool);
        }
    }

    /// <summary>M, N, K at 1, odd, below/at/above each tile and k-block; every output kind in turn.</summary>
    private static IEnumerable<QGemmCase> ShapeCases()
    {
        int[] ms = [1, 2, 3, 4, 5, 6, 7, 13];
        int[] ns = [1, 3, 4, 8, 15, 16, 17, 33, 40];
        int[] ks = [1, 2, 3, 4, 5, 7, 8, 15, 16, 17, 31, 33, 64, 67];
        var rng = new Random(1234);
        int seed = 0;
        foreach (int k in ks)
        {
            for (int i = 0; i < 6; i++)
            {
                seed++;
                int m = ms[rng.Next(ms.Length)], n = ns[rng.Next(ns.Length)];
                bool signed = rng.Next(2) == 0;
                var kind = (QGemmOutputKind)(seed % 4);
                yield return Case(m, n, k, signed, kind, rng, seed);
            }
        }
        // Deeper than the x86 paths' 512-k activation-widening chunk, ending odd and mid-group.
        yield return Case(5, 20, 1031, false, QGemmOutputKind.Int32, rng, 900);
        yield return Case(7, 33, 515, true, QGemmOutputKind.UInt8, rng, 901);
        // The avx512 path widens rows whose stride is K rounded up to a pair as one run, here odd K with stride
        // K + 1: the random byte after each row meets the packing's zero weight of the last pair.
        foreach (bool signed in new[] { false, true })
            yield return new QGemmCase(13, 40, 15, signed, signed ? -3 : 7, QGemmOutputKind.Int32, 0, 0, 0,
                PerColumnScale: false, ScaleBase: 1f, Bias: true, WeightZeroPoints: 0, WeightsAvoidMinus128: false,
                ExtraLda: 1, ExtraLdc: 0, Seed: 920 + (signed ? 1 : 0));
        // More rows than the avx512 path widens at once (256 KB of s16 rows: 126 rows at K = 1031), odd K.
        yield return Case(131, 35, 1031, true, QGemmOutputKind.UInt8, rng, 909);
        // GEMV-like rows (M = 1 or 2, or 1-2 rows below the tile) over more than four 16-column panels:
        // the x86 one-row kernels take 4, 2 and 1 panels at a time, with k-groups split over accumulators.
        yield return Case(1, 64, 64, false, QGemmOutputKind.UInt8, rng, 902);
        yield return Case(1, 100, 17, true, QGemmOutputKind.Int8, rng, 903);
        yield return Case(2, 130, 33, false, QGemmOutputKind.Int32, rng, 904);
        yield return Case(8, 79, 67, true, QGemmOutputKind.Float32, rng, 905);
        yield return Case(1, 200, 131, false, QGemmOutputKind.UInt8, rng, 906);
        yield return Case(14, 97, 6, true, QGemmOutputKind.UInt8, rng, 907);
        yield return Case(1, 48, 257, true, QGemmOutputKind.Int32, rng, 908);
        // Pointwise-convolution shapes (small K, full 16-column panels and a partial one): the x86 tiles that
        // finish in registers, for every output kind, both activation signs and every tile height (M % 6).
        foreach (var kind in Enum.GetValues<QGemmOutputKind>())
            for (int i = 0; i < 6; i++)
                yield return Case(21 + i, i % 2 == 0 ? 48 : 37, 16 + 16 * i + (i == 5 ? 3 : 0), i % 2 == 1, kind, rng, 910 + (int)kind * 6 + i);
        // 64-column panels (avx512-vnni): full panels and a last one of 22 or 48 columns (whole 16-column quarters
        // through the register sinks, a part of one through the stored tile), u8 rows read in place (K % 4 == 0) or
        // through the padded copy (s8, or K % 4 != 0), every tile height, every output kind.
        foreach (var kind in Enum.GetValues<QGemmOutputKind>())
            for (int i = 0; i < 6; i++)
                yield return Case(19 + i, (i % 3) switch { 0 => 128, 1 => 150, _ => 112 }, i < 3 ? 32 * (i + 1) : 4 * i + 1, i % 2 == 1, kind, rng, 950 + (int)kind * 6 + i);
        // More u8 rows than avx512-vnni reads per pass over the panels (128 KB: 126 rows at K = 1024), in place.
        yield return Case(131, 70, 1024, false, QGemmOutputKind.UInt8, rng, 980);
    }

    /// <summary>Every epilogue x zero-point extreme x scale magnitude (saturating and not) x clamp.</summary>
    private static IEnumerable<QGemmCase> EpilogueCases()
    {
        var rng = new Random(99);
        int seed = 1000;
        float[] scales = [1e-6f, 3e-4f, 0.02f, 1f, 40f];
        foreach (var kind in Enum.GetValues<QGemmOutputKind>())
        {
            foreach (bool signed in new[] { false, true })
            {
                int[] zps = signed ? ZeroPointsS8 : ZeroPointsU8;
                foreach (int zp in zps)
                {
                    seed++;
                    float scale = scales[rng.Next(scales.Length)];
                    int outZp = kind == QGemmOutputKind.Int8 ? ZeroPointsS8[rng.Next(4)] : ZeroPointsU8[rng.Next(4)];
                    (int lo, int hi) = kind == QGemmOutputKind.Int8 ? (-128, 127) : (0, 255);
                    (int min, int max) = rng.Next(3) switch
                    {
                        0 => (lo, hi),
                        1 => (outZp, hi),                              // fused ReLU
                        _ => (Math.Min(outZp, hi - 10), Math.Min(hi, Math.Min(outZp, hi - 10) + 10)), // narrow min-max
                    };
                    yield return new QGemmCase(
                        rng.Next(1, 14), rng.Next(1, 41), rng.Next(1, 70), signed, zp, kind, outZp, min, max,
                        PerColumnScale: rng.Next(2) == 0, ScaleBase: scale, Bias: rng.Next(2) == 0,
                        WeightZeroPoints: rng.Next(3), WeightsAvoidMinus128: rng.Next(2) == 0,
                        ExtraLda: rng.Next(3) * 5, ExtraLdc: rng.Next(3) * 3, Seed: seed);
                }
            }
        }
    }

    /// <summary>
    /// The x86 tiles that requantize in registers (symmetric weights, full 16-column panels): every output kind and
    /// activation sign for each tile height and row grouping (4 + 2, 4 + 1, the 3- and 4-row pair tile, 1-2 rows
    /// left to the one-row kernel), with clamps (full, fused ReLU, narrow), extreme output zero points and scales
    /// from vanishing to beyond int32 after scaling (the upper bound clamps in float, the lower one on the bytes,
    /// where a value below int32 or int16 must saturate, never wrap, through the zero-point add).
    /// </summary>
    private static IEnumerable<QGemmCase> RegisterEpilogueCases()
    {
        var rng = new Random(4242);
        int seed = 6000;
        int[] ms = [4, 5, 6, 9, 10, 16];
        int[] ns = [32, 48, 64];
        int[] ks = [4, 8, 64, 67];
        float[] scales = [1e-6f, 1e-4f, 40f, 1e4f];
        foreach (var kind in Enum.GetValues<QGemmOutputKind>())
            foreach (bool signed in new[] { false, true })
                foreach (int m in ms)
                {
                    seed++;
                    int k = ks[rng.Next(ks.Length)];
                    float scale = rng.Next(3) == 0 ? 0.5f / (k * 64) : scales[rng.Next(scales.Length)];
                    int[] outZps = kind == QGemmOutputKind.Int8 ? ZeroPointsS8 : ZeroPointsU8;
                    int outZp = outZps[rng.Next(outZps.Length)];
                    (int lo, int hi) = kind == QGemmOutputKind.Int8 ? (-128, 127) : (0, 255);
                    (int min, int max) = rng.Next(3) switch
                    {
                        0 => (lo, hi),
                        1 => (outZp, hi),
                        _ => (Math.Min(outZp, hi - 6) - 3, Math.Min(outZp, hi - 6) + 6),
                    };
                    min = Math.Max(lo, min);
                    int za = signed ? ZeroPointsS8[rng.Next(4)] : ZeroPointsU8[rng.Next(4)];
                    yield return new QGemmCase(m, ns[rng.Next(ns.Length)], k, signed, za, kind, outZp, min, max,
                        PerColumnScale: rng.Next(2) == 0, ScaleBase: scale, Bias: rng.Next(3) != 0,
                        WeightZeroPoints: 0, WeightsAvoidMinus128: rng.Next(2) == 0,
                        ExtraLda: rng.Next(2) * 7, ExtraLdc: rng.Next(2) * 5, Seed: seed);
                }
        // Every extreme output zero point with accumulators scaled far beyond int16 both ways, full range.
        foreach (var kind in new[] { QGemmOutputKind.UInt8, QGemmOutputKind.Int8 })
            foreach (int outZp in kind == QGemmOutputKind.Int8 ? ZeroPointsS8 : ZeroPointsU8)
            {
                (int min, int max) = kind == QGemmOutputKind.Int8 ? (-128, 127) : (0, 255);
                yield return new QGemmCase(6, 32, 64, outZp % 2 == 0, 0, kind, outZp, min, max,
                    PerColumnScale: false, ScaleBase: 1e4f, Bias: true, WeightZeroPoints: 0, WeightsAvoidMinus128: true,
                    ExtraLda: 0, ExtraLdc: 0, Seed: ++seed);
            }
        // Full-range clamps (no activation, or ReLU at zero point 0 / -128) around the per-call bound under which the
        // sinks drop every clamp: scales from far below to past (|bias| + K * 255 * 128) * scale = 2^30, so calls on
        // both sides of it run, and extreme zero points where a dropped clamp would show first.
        foreach (var kind in new[] { QGemmOutputKind.UInt8, QGemmOutputKind.Int8 })
            foreach (int k in new[] { 8, 16, 64, 67 })
                foreach (double factor in new[] { 1e-3, 0.4, 0.9, 1.6, 8.0 })
                {
                    seed++;
                    (int min, int max) = kind == QGemmOutputKind.Int8 ? (-128, 127) : (0, 255);
                    int[] outZps = kind == QGemmOutputKind.Int8 ? ZeroPointsS8 : ZeroPointsU8;
                    int outZp = rng.Next(3) == 0 ? min : outZps[rng.Next(outZps.Length)];
                    float scale = (float)(factor * (1 << 30) / (k * 255.0 * 128.0 + (1 << 20)));
                    bool signed = rng.Next(2) == 0;
                    int za = signed ? ZeroPointsS8[rng.Next(4)] : ZeroPointsU8[rng.Next(4)];
                    yield return new QGemmCase(new[] { 4, 6, 11, 16 }[rng.Next(4)], new[] { 16, 32, 48 }[rng.Next(3)], k, signed, za, kind, outZp, min, max,
                        PerColumnScale: rng.Next(2) == 0, ScaleBase: scale, Bias: rng.Next(3) != 0,
                        WeightZeroPoints: 0, WeightsAvoidMinus128: rng.Next(2) == 0,
                        ExtraLda: rng.Next(2) * 7, ExtraLdc: rng.Next(2) * 5, Seed: seed);
                }
        // Depths the AVX-VNNI panel kernel keeps in registers (K = 4..16 in steps of 4): every output kind and sign,
        // row counts leaving 0..3 rows after the four-row steps, a partial last panel, clamps and scales as above.
        int[] panelMs = [3, 4, 5, 7, 11, 13, 22];
        foreach (var kind in Enum.GetValues<QGemmOutputKind>())
            foreach (bool signed in new[] { false, true })
                foreach (int k in new[] { 4, 8, 12, 16 })
                {
                    seed++;
                    float scale = rng.Next(2) == 0 ? 0.5f / (k * 64) : scales[rng.Next(scales.Length)];
                    int[] outZps = kind == QGemmOutputKind.Int8 ? ZeroPointsS8 : ZeroPointsU8;
                    int outZp = outZps[rng.Next(outZps.Length)];
                    (int lo, int hi) = kind == QGemmOutputKind.Int8 ? (-128, 127) : (0, 255);
                    (int min, int max) = rng.Next(2) == 0 ? (lo, hi) : (outZp, hi);
                    int za = signed ? ZeroPointsS8[rng.Next(4)] : ZeroPointsU8[rng.Next(4)];
                    yield return new QGemmCase(panelMs[rng.Next(panelMs.Length)], new[] { 16, 32, 40 }[rng.Next(3)], k, signed, za, kind, outZp, min, max,
                        PerColumnScale: rng.Next(2) == 0, ScaleBase: scale, Bias: rng.Next(3) != 0,
                        WeightZeroPoints: 0, WeightsAvoidMinus128: rng.Next(2) == 0,
                        ExtraLda: rng.Next(2) * 7, ExtraLdc: rng.Next(2) * 5, Seed: seed);
                }
        // The avx512 path's 32-column tile, finished in registers as two 16-column halves: every tile height
        // (M % 6 = 0..5) for every output kind and sign, full 32-column panels and a partial last one (N = 80).
        var wide = new Random(77);
        foreach (var kind in Enum.GetValues<QGemmOutputKind>())
            foreach (bool signed in new[] { false, true })
                for (int tail = 0; tail < 6; tail++)
                {
                    seed++;
                    int k = new[] { 2, 31, 64, 130 }[wide.Next(4)];
                    int[] outZps = kind == QGemmOutputKind.Int8 ? ZeroPointsS8 : ZeroPointsU8;
                    int outZp = outZps[wide.Next(outZps.Length)];
                    (int lo, int hi) = kind == QGemmOutputKind.Int8 ? (-128, 127) : (0, 255);
                    (int min, int max) = wide.Next(2) == 0 ? (lo, hi) : (outZp, hi);
                    int za = signed ? ZeroPointsS8[wide.Next(4)] : ZeroPointsU8[wide.Next(4)];
                    yield return new QGemmCase(6 * wide.Next(1, 3) + tail, wide.Next(2) == 0 ? 64 : 80, k, signed, za, kind, outZp, min, max,
                        PerColumnScale: wide.Next(2) == 0, ScaleBase: 0.5f / (k * 64), Bias: wide.Next(3) != 0,
                        WeightZeroPoints: 0, WeightsAvoidMinus128: wide.Next(2) == 0,
                        ExtraLda: wide.Next(2) * 7, ExtraLdc: wide.Next(2) * 5, Seed: seed);
                }
    }

    /// <summary>Large enough to be split over the pool; each runs with 1, 2 and 3 threads.</summary>
    private static IEnumerable<QGemmCase> ThreadCases()
    {
        var rng = new Random(7);
        yield return Case(37, 70, 50, false, QGemmOutputKind.UInt8, rng, 5001);
        yield return Case(64, 33, 67, true, QGemmOutputKind.Int8, rng, 5002);
        yield return Case(9, 130, 64, false, QGemmOutputKind.Float32, rng, 5003);
        yield return Case(100, 17, 40, true, QGemmOutputKind.Int32, rng, 5004);
        yield return Case(1, 300, 70, false, QGemmOutputKind.UInt8, rng, 5005);
        yield return Case(8, 150, 45, true, QGemmOutputKind.Int8, rng, 5006);
    }

    private static QGemmCase Case(int m, int n, int k, bool signed, QGemmOutputKind kind, Random rng, int seed)
    {
        int za = signed ? ZeroPointsS8[rng.Next(4)] : ZeroPointsU8[rng.Next(4)];
        int outZp = kind == QGemmOutputKind.Int8 ? ZeroPointsS8[rng.Next(4)] : ZeroPointsU8[rng.Next(4)];
        (int min, int max) = kind == QGemmOutputKind.Int8 ? (-128, 127) : (0, 255);
        return new QGemmCase(m, n, k, signed, za, kind, outZp, min, max,
            PerColumnScale: rng.Next(2) == 0, ScaleBase: 0.5f / (k * 64), Bias: rng.Next(2) == 0,
            WeightZeroPoints: rng.Next(4) == 0 ? rng.Next(1, 3) : 0, WeightsAvoidMinus128: rng.Next(2) == 0,
            ExtraLda: rng.Next(2) * 3, ExtraLdc: rng.Next(2) * 2, Seed: seed);
    }

    private static void ArgumentErrors()
    {
        var table = KernelTable.For(Isa.Scalar);
        var w = new sbyte[4 * 3];
        var packed = PackedWeights.Pack(table, w, 4, 3, 3);
        var a = new byte[2 * 4];
        var c = new byte[2 * 3];
        var e = Expect.Throws<ArgumentException>(() => PackedWeights.Pack(table, w, 5, 3, 3), "short weights");
        Expect.True(e.Message.Contains("K=5"), $"message names K: {e.Message}");
        e = Expect.Throws<ArgumentException>(() => QGemm.Run(QGemmInput.UInt8(a, 3, 4, 0), packed, QGemmOutput.UInt8(c, 3, [1f], 0)), "short A");
        Expect.True(e.Message.Contains("M=3"), $"message names M: {e.Message}");
        e = Expect.Throws<ArgumentException>(() => QGemm.Run(QGemmInput.UInt8(a, 2, 4, 0), packed, QGemmOutput.UInt8(c, 3, [1f, 2f], 0)), "scale count");
        Expect.True(e.Message.Contains("scales"), $"message names the scales: {e.Message}");
        e = Expect.Throws<ArgumentException>(() => QGemm.Run(QGemmInput.UInt8(a, 2, 4, 0), packed, QGemmOutput.UInt8(c, 3, [float.NaN], 0)), "NaN scale");
        e = Expect.Throws<ArgumentException>(() => QGemm.Run(QGemmInput.UInt8(a, 2, 4, 0), packed, QGemmOutput.UInt8(c, 3, [1f], 0), bias: new int[2]), "bias length");
        Expect.True(e.Message.Contains("bias"), $"message names the bias: {e.Message}");
        Expect.Throws<ArgumentException>(() => QGemmInput.UInt8(a, 2, 4, 256), "u8 zero point 256");
        Expect.Throws<ArgumentException>(() => QGemmOutput.Int8(new sbyte[6], 3, [1f], 0, min: 5, max: 4), "empty clamp");
    }
}
