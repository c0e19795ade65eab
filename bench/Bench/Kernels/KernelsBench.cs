using System.Globalization;
using System.Text;
using EdgeAgent.Kernels;
using static EdgeAgent.Bench.Kernels.OnnxModel;

namespace EdgeAgent.Bench.Kernels;

/// <summary>
/// `./build.sh bench kernels`: our int8 GEMM and convolutions against ONNX Runtime's QLinearMatMul,
/// MatMulInteger and QLinearConv (and ORT's float MatMul/Conv on the same shapes), same machine, same
/// thread count, one-node models built here. Throughput is 2 x MACs / second.
/// </summary>
public static class KernelsBench
{
    private sealed record Row(string Op, string Shape, long Macs, double Ours, double Ort, double OrtFloat, string OrtOp)
    {
        /// <summary>Rows beyond the issue's shape list (the runtime's narrow MobileNet depthwise layers): printed and written, left out of the medians.</summary>
        public bool Extra { get; init; }
    }

    public static int Run(string[] args)
    {
        int threads = 1;
        bool quick = false, wall = false;
        var only = new List<string>();
        string output = Path.Combine("bench", "results", "kernels.json");
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--threads" when i + 1 < args.Length: threads = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
                case "--quick": quick = true; break;
                case "--output" when i + 1 < args.Length: output = args[++i]; break;
                case "--only" when i + 1 < args.Length: only.Add(args[++i]); break;
                case "--wall": wall = true; break;
                default: Console.Error.WriteLine($"kernels bench: unknown argument '{args[i]}' (--threads N, --quick, --output FILE, --only TEXT..., --wall)"); return 2;
            }
        }
        if (threads < 1) { Console.Error.WriteLine("kernels bench: --threads must be at least 1"); return 2; }

        // One thread: time the calling thread's CPU time (both sides run on it); more threads need wall time.
        Timing.ThreadCpuTime = threads == 1 && !wall;
        string clock = Timing.ThreadCpuTime ? "thread-cpu" : "wall";
        var table = KernelTable.Current;
        using var pool = threads > 1 ? new WorkerPool(threads) : null;
        double hz = Timing.EstimateHz();
        Console.WriteLine($"cpu: {CpuFeatures.Host.Describe()}, ~{hz / 1e9:F2} GHz (dependent-add estimate); path: {table.Name} ({table.QGemmKernelName}); threads: {threads}; clock: {clock}");
        Console.WriteLine($"{"op",-12} {"shape",-34} {"ours GOPS",10} {"ORT GOPS",10} {"ratio",7} {"ORT fp32",10} {"vs fp32",8} {"MAC/cyc",8}");

        var rows = new List<Row>();
        // --only keeps the rows whose "op shape" contains one of the given texts, so one row can be timed quickly.
        void Add(string op, string shape, Func<Row> run)
        {
            string key = $"{op} {shape}";
            if (only.Count == 0 || only.Any(o => key.Contains(o, StringComparison.OrdinalIgnoreCase)))
                rows.Add(Print(run(), hz, threads));
        }
        int[] ms = [1, 4, 16, 64, 196];
        int[] kns = quick ? [64, 512] : [64, 256, 512, 1024];
        foreach (int m in ms)
            foreach (int k in kns)
                foreach (int n in kns)
                {
                    Add("qgemm", $"M={m},K={k},N={n}", () => Gemm(table, pool, threads, m, k, n, int32Output: false));
                    if (k == n) Add("qgemm-int32", $"M={m},K={k},N={n}", () => Gemm(table, pool, threads, m, k, n, int32Output: true));
                }
        foreach (int size in new[] { 56, 14 })
        {
            int c = size == 56 ? 64 : 256;
            Add("qconv3x3s1", $"{size}x{size}x{c}->{c}", () => Conv(table, pool, threads, "qconv3x3s1", new Conv2DShape(1, size, size, c, c, 3, 3, 1, 1, 1, 1, 1, 1)));
            Add("qconv3x3s2", $"{size}x{size}x{c}->{2 * c}", () => Conv(table, pool, threads, "qconv3x3s2", new Conv2DShape(1, size, size, c, 2 * c, 3, 3, 2, 2, 1, 1, 1, 1)));
            Add("qdwconv3x3", $"{size}x{size}x{2 * c}", () => Depthwise(table, pool, threads, size, 2 * c, 3, 1));
            Add("qconv1x1", $"{size}x{size}x{2 * c}->{2 * c}", () => Conv(table, pool, threads, "qconv1x1", new Conv2DShape(1, size, size, 2 * c, 2 * c, 1, 1)));
        }

        // MobileNet-224's narrow depthwise layers (the runtime's model) and the stride-2 / 5x5 depthwise forms.
        void AddExtra(string op, string shape, Func<Row> run) => Add(op, shape, () => run() with { Extra = true });
        AddExtra("qdwconv3x3", "112x112x16", () => Depthwise(table, pool, threads, 112, 16, 3, 1));
        AddExtra("qdwconv3x3", "56x56x32", () => Depthwise(table, pool, threads, 56, 32, 3, 1));
        AddExtra("qdwconv3x3s2", "112x112x64", () => Depthwise(table, pool, threads, 112, 64, 3, 2));
        AddExtra("qdwconv5x5", "14x14x480", () => Depthwise(table, pool, threads, 14, 480, 5, 1));
        // MobileNet-224's shallow pointwise layers (K = 16..64): where the epilogue weighs as much as the multiply-adds.
        foreach (var (size, cin, cout) in new[] { (112, 16, 32), (56, 32, 64), (56, 64, 64), (28, 64, 128) })
            AddExtra("qconv1x1", $"{size}x{size}x{cin}->{cout}", () => Conv(table, pool, threads, "qconv1x1", new Conv2DShape(1, size, size, cin, cout, 1, 1)));

        var counted = rows.Where(r => !r.Extra).ToList();
        var ratios = counted.Select(r => r.Ours / r.Ort).Order().ToArray();
        double median = Median(ratios);
        double medianSmall = Median(counted.Where(r => r.Op.StartsWith("qgemm") && M(r) <= 16).Select(r => r.Ours / r.Ort).Order().ToArray());
        var vsFloat = counted.Where(r => r.Op.StartsWith("qgemm") && M(r) >= 16).Select(r => r.Ours / r.OrtFloat).Order().ToArray();
        Console.WriteLine();
        Console.WriteLine($"median ratio (all {counted.Count} issue rows): {median:F2}; median ratio GEMM M<=16: {medianSmall:F2}; " +
                          $"ours int8 / ORT fp32 for GEMM M>=16: median {Median(vsFloat):F2}, min {(vsFloat.Length == 0 ? double.NaN : vsFloat[0]):F2}");
        Write(output, threads, hz, clock, table, rows);
        Console.WriteLine($"wrote {output}");
        return 0;
    }

    private static int M(Row r) => int.Parse(r.Shape.Split(',')[0].Split('=')[1], CultureInfo.InvariantCulture);

    private static double Median(double[] sorted) => sorted.Length == 0 ? double.NaN
        : sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;

    private static Row Print(Row r, double hz, int threads)
    {
        double ours = Gops(r.Macs, r.Ours), ort = Gops(r.Macs, r.Ort), fp = Gops(r.Macs, r.OrtFloat);
        Console.WriteLine($"{r.Op,-12} {r.Shape,-34} {ours,10:F1} {ort,10:F1} {ours / ort,7:F2} {fp,10:F1} {ours / fp,8:F2} {r.Macs * r.Ours / hz / threads,8:F1}");
        return r;
    }

    private static double Gops(long macs, double perSecond) => 2.0 * macs * perSecond / 1e9;

    /// <summary>u8 x s8 GEMM: requantized u8 against QLinearMatMul, or int32 against MatMulInteger.</summary>
    private static Row Gemm(KernelTable table, WorkerPool? pool, int threads, int m, int k, int n, bool int32Output)
    {
        var rng = new Random(m * 7919 + k * 31 + n);
        var a = new byte[m * k];
        rng.NextBytes(a);
        var b = new sbyte[k * n];
        for (int i = 0; i < b.Length; i++) b[i] = (sbyte)rng.Next(-127, 128);
        const float aScale = 0.02f, bScale = 0.005f, yScale = 0.5f;
        const byte aZp = 128, yZp = 120;
        float[] scales = [aScale * bScale / yScale];
        var packed = PackedWeights.Pack(table, b, k, n, n);
        var c8 = new byte[m * n];
        var c32 = new int[m * n];
        Action ours = int32Output
            ? () => QGemm.Run(QGemmInput.UInt8(a, m, k, aZp), packed, QGemmOutput.Int32(c32, n), pool: pool)
            : () => QGemm.Run(QGemmInput.UInt8(a, m, k, aZp), packed, QGemmOutput.UInt8(c8, n, scales, yZp), pool: pool);
        double oursTime = Timing.MedianSeconds(ours);

        var aValue = new Value("a", ElemUInt8, [m, k]);
        byte[] model = int32Output
            ? Build("MatMulInteger", ["a", "b", "a_zp"], [aValue], [SBytes("b", [k, n], b), ScalarU8("a_zp", aZp)], new Value("y", ElemInt32, [m, n]))
            : Build("QLinearMatMul", ["a", "a_scale", "a_zp", "b", "b_scale", "b_zp", "y_scale", "y_zp"], [aValue],
                [Scalar("a_scale", aScale), ScalarU8("a_zp", aZp), SBytes("b", [k, n], b), Scalar("b_scale", bScale), ScalarS8("b_zp", 0),
                 Scalar("y_scale", yScale), ScalarU8("y_zp", yZp)], new Value("y", ElemUInt8, [m, n]));
        double ortTime;
        using (var ort = new OrtRunner(model, threads, [("a", OrtRunner.Tensor(a, m, k))],
                   int32Output ? ("y", OrtRunner.Tensor(new int[m * n], m, n)) : ("y", OrtRunner.Tensor(new byte[m * n], m, n))))
            ortTime = Timing.MedianSeconds(ort.Run);

        var af = a.Select(x => (x - aZp) * aScale).ToArray();
        var bf = b.Select(x => x * bScale).ToArray();
        var floatModel = Build("MatMul", ["a", "b"], [new Value("a", ElemFloat, [m, k])], [Floats("b", [k, n], bf)], new Value("y", ElemFloat, [m, n]));
        double floatTime;
        using (var ort = new OrtRunner(floatModel, threads, [("a", OrtRunner.Tensor(af, m, k))], ("y", OrtRunner.Tensor(new float[m * n], m, n))))
            floatTime = Timing.MedianSeconds(ort.Run);

        return new Row(int32Output ? "qgemm-int32" : "qgemm", $"M={m},K={k},N={n}", (long)m * k * n,
            1 / oursTime, 1 / ortTime, 1 / floatTime, int32Output ? "MatMulInteger" : "QLinearMatMul");
    }

    /// <summary>u8 NHWC convolution, per-channel s8 weights, requantized u8, against QLinearConv (NCHW).</summary>
    private static Row Conv(KernelTable table, WorkerPool? pool, int threads, string op, Conv2DShape s)
    {
        var rng = new Random(s.Height * 131 + s.InChannels + s.StrideHeight);
        var x = new byte[s.Height * s.Width * s.InChannels];
        rng.NextBytes(x);
        var w = new sbyte[s.OutChannels * s.GroupInChannels * s.KernelHeight * s.KernelWidth];
        for (int i = 0; i < w.Length; i++) w[i] = (sbyte)rng.Next(-127, 128);
        var bias = Enumerable.Range(0, s.OutChannels).Select(_ => rng.Next(-1000, 1000)).ToArray();
        const float xScale = 0.02f, yScale = 0.5f;
        const byte xZp = 128, yZp = 120;
        var wScales = Enumerable.Range(0, s.OutChannels).Select(_ => 0.002f + 0.004f * (float)rng.NextDouble()).ToArray();
        var scales = wScales.Select(ws => xScale * ws / yScale).ToArray();
        var conv = new QConv2D(table, s, w);
        var scratch = new byte[conv.ScratchBytes];
        int outPixels = s.OutHeight * s.OutWidth;
        var y = new byte[outPixels * s.OutChannels];
        double oursTime = Timing.MedianSeconds(() =>
            conv.Run(QGemmInput.UInt8(x, s.Height * s.Width, s.InChannels, xZp), QGemmOutput.UInt8(y, s.OutChannels, scales, yZp), scratch, bias, pool: pool));

        long[] xDims = [1, s.InChannels, s.Height, s.Width], wDims = [s.OutChannels, s.GroupInChannels, s.KernelHeight, s.KernelWidth];
        long[] yDims = [1, s.OutChannels, s.OutHeight, s.OutWidth];
        var wOihw = w; // QConv2D takes OIHW too
        var attrs = new Dictionary<string, long[]>
        {
            ["kernel_shape"] = [s.KernelHeight, s.KernelWidth], ["strides"] = [s.StrideHeight, s.StrideWidth],
            ["pads"] = [s.PadTop, s.PadLeft, s.PadBottom, s.PadRight], ["dilations"] = [s.DilationHeight, s.DilationWidth],
        };
        var group = new Dictionary<string, long> { ["group"] = s.Groups };
        var model = Build("QLinearConv", ["x", "x_scale", "x_zp", "w", "w_scale", "w_zp", "y_scale", "y_zp", "b"], [new Value("x", ElemUInt8, xDims)],
            [Scalar("x_scale", xScale), ScalarU8("x_zp", xZp), SBytes("w", wDims, wOihw), Floats("w_scale", [s.OutChannels], wScales),
             SBytes("w_zp", [s.OutChannels], new sbyte[s.OutChannels]), Scalar("y_scale", yScale), ScalarU8("y_zp", yZp), Ints("b", [s.OutChannels], bias)],
            new Value("y", ElemUInt8, yDims), attrs, group);
        double ortTime;
        using (var ort = new OrtRunner(model, threads, [("x", OrtRunner.Tensor(x, xDims))], ("y", OrtRunner.Tensor(new byte[y.Length], yDims))))
            ortTime = Timing.MedianSeconds(ort.Run);

        var floatModel = Build("Conv", ["x", "w", "b"], [new Value("x", ElemFloat, xDims)],
            [Floats("w", wDims, w.Select(v => v * 0.004f).ToArray()), Floats("b", [s.OutChannels], bias.Select(v => v * 1e-4f).ToArray())],
            new Value("y", ElemFloat, yDims), attrs, group);
        double floatTime;
        using (var ort = new OrtRunner(floatModel, threads, [("x", OrtRunner.Tensor(x.Select(v => (v - 128) * xScale).ToArray(), xDims))],
                   ("y", OrtRunner.Tensor(new float[y.Length], yDims))))
            floatTime = Timing.MedianSeconds(ort.Run);

        long macs = (long)outPixels * s.OutChannels * s.GemmK;
        return new Row(op, $"{s.Height}x{s.Width}x{s.InChannels}->{s.OutChannels}", macs, 1 / oursTime, 1 / ortTime, 1 / floatTime, "QLinearConv");
    }

    /// <summary>Depthwise k x k (padding k / 2) through KernelTable.DepthwiseConv, against QLinearConv with group = C.</summary>
    private static Row Depthwise(KernelTable table, WorkerPool? pool, int threads, int size, int channels, int kernel, int stride)
    {
        int taps = kernel * kernel, pad = kernel / 2;
        var rng = new Random(size + channels);
        var x = new byte[size * size * channels];
        rng.NextBytes(x);
        var wOihw = new sbyte[channels * taps];
        for (int i = 0; i < wOihw.Length; i++) wOihw[i] = (sbyte)rng.Next(-127, 128);
        var wHwc = new sbyte[taps * channels];
        for (int c = 0; c < channels; c++) for (int t = 0; t < taps; t++) wHwc[t * channels + c] = wOihw[c * taps + t];
        var bias = new int[channels];
        var scales = Enumerable.Range(0, channels).Select(_ => 0.0002f).ToArray();
        var geometry = new WindowGeometry(size, size, kernel, stride, pad);
        int outSize = geometry.OutputHeight;
        var y = new byte[outSize * outSize * channels];
        var work = new DepthwiseRows(table, geometry, channels, x, wHwc, bias, scales, y) { Parts = pool?.ThreadCount ?? 1 };
        double oursTime = Timing.MedianSeconds(() => { if (pool is null) work.Execute(0, 1); else pool.Run(work, pool.ThreadCount); });

        long[] xDims = [1, channels, size, size], wDims = [channels, 1, kernel, kernel], yDims = [1, channels, outSize, outSize];
        var attrs = new Dictionary<string, long[]> { ["kernel_shape"] = [kernel, kernel], ["strides"] = [stride, stride], ["pads"] = [pad, pad, pad, pad] };
        var group = new Dictionary<string, long> { ["group"] = channels };
        var model = Build("QLinearConv", ["x", "x_scale", "x_zp", "w", "w_scale", "w_zp", "y_scale", "y_zp", "b"], [new Value("x", ElemUInt8, xDims)],
            [Scalar("x_scale", 0.02f), ScalarU8("x_zp", 128), SBytes("w", wDims, wOihw), Floats("w_scale", [channels], Enumerable.Repeat(0.005f, channels).ToArray()),
             SBytes("w_zp", [channels], new sbyte[channels]), Scalar("y_scale", 0.5f), ScalarU8("y_zp", 120), Ints("b", [channels], bias)],
            new Value("y", ElemUInt8, yDims), attrs, group);
        double ortTime;
        using (var ort = new OrtRunner(model, threads, [("x", OrtRunner.Tensor(x, xDims))], ("y", OrtRunner.Tensor(new byte[y.Length], yDims))))
            ortTime = Timing.MedianSeconds(ort.Run);
        var floatModel = Build("Conv", ["x", "w"], [new Value("x", ElemFloat, xDims)], [Floats("w", wDims, wOihw.Select(v => v * 0.005f).ToArray())],
            new Value("y", ElemFloat, yDims), attrs, group);
        double floatTime;
        using (var ort = new OrtRunner(floatModel, threads, [("x", OrtRunner.Tensor(x.Select(v => (v - 128) * 0.02f).ToArray(), xDims))],
                   ("y", OrtRunner.Tensor(new float[y.Length], yDims))))
            floatTime = Timing.MedianSeconds(ort.Run);
        string op = $"qdwconv{kernel}x{kernel}" + (stride == 1 ? "" : $"s{stride}");
        return new Row(op, $"{size}x{size}x{channels}", (long)outSize * outSize * channels * taps, 1 / oursTime, 1 / ortTime, 1 / floatTime, "QLinearConv");
    }

    /// <summary>Splits the depthwise kernel's output rows over the pool.</summary>
    private sealed class DepthwiseRows(KernelTable table, WindowGeometry g, int channels, byte[] x, sbyte[] w, int[] bias, float[] scales, byte[] y) : IParallelWork
    {
        public int Parts { get; set; } = 1;

        public void Execute(int index, int parts)
        {
            int rows = g.OutputHeight, r0 = rows * index / parts, r1 = rows * (index + 1) / parts;
            table.DepthwiseConv(g, channels, x, 128, w, bias, scales, QuantizedOutput.U8(120), y, r0, r1 - r0);
        }

        public void Execute(int index) => Execute(index, Parts);
    }

    private static void Write(string path, int threads, double hz, string clock, KernelTable table, List<Row> rows)
    {
        var json = new StringBuilder();
        json.Append(CultureInfo.InvariantCulture, $"{{\"threads\": {threads}, \"cpu\": \"{CpuFeatures.Host.Describe()}\", \"path\": \"{table.Name}\", ");
        json.Append(CultureInfo.InvariantCulture, $"\"kernel\": \"{table.QGemmKernelName}\", \"estimated_ghz\": {hz / 1e9:F2}, \"clock\": \"{clock}\", \"rows\": [");
        for (int i = 0; i < rows.Count; i++)
        {
            var r = rows[i];
            double ours = Gops(r.Macs, r.Ours), ort = Gops(r.Macs, r.Ort), fp = Gops(r.Macs, r.OrtFloat);
            json.Append(i == 0 ? "\n  " : ",\n  ");
            json.Append(CultureInfo.InvariantCulture,
                $"{{\"op\": \"{r.Op}\", \"shape\": \"{r.Shape}\", \"ours_gops\": {ours:F2}, \"ort_gops\": {ort:F2}, \"ratio\": {ours / ort:F3}, ");
            json.Append(CultureInfo.InvariantCulture,
                $"\"ort_op\": \"{r.OrtOp}\", \"ort_float_gops\": {fp:F2}, \"int8_vs_ort_float\": {ours / fp:F3}, \"macs_per_cycle\": {r.Macs * r.Ours / hz / threads:F2}{(r.Extra ? ", \"extra\": true" : "")}}}");
        }
        json.Append("\n]}\n");
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, json.ToString());
    }
}
