using System.Runtime.InteropServices;
using EdgeAgent.Kernels;

namespace EdgeAgent.Checks.Kernels;

/// <summary>
/// QConv2D on every supported path against a direct convolution written from the definition (no im2col,
/// no GEMM): stride, asymmetric padding, dilation, groups, depthwise, pointwise, batch, every output kind.
/// </summary>
public static class ConvChecks
{
    private static readonly Lazy<WorkerPool> s_pool = new(() => new WorkerPool(3));

    public static void Register(List<Check> checks)
    {
        foreach (var isa in CpuFeatures.Host.SupportedIsas)
            checks.Add(new("kernels", $"conv.{isa.ToName()}.geometries", () => RunAll(isa)));
        checks.Add(new("kernels", "conv.argument-errors", ArgumentErrors));
    }

    private static IEnumerable<Conv2DShape> Shapes() =>
    [
        new(1, 7, 6, 5, 9, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1),   // 3x3 s1 "same"
        new(1, 9, 8, 4, 17, 3, 3, 2, 2, 1, 1, 1, 1),                                  // 3x3 s2
        new(2, 5, 4, 6, 7, 1, 1),                                                     // pointwise, batch 2
        new(1, 6, 7, 8, 16, 1, 1, Groups: 2),                                         // grouped pointwise
        new(1, 7, 7, 3, 5, 1, 1, 2, 2),                                               // 1x1 stride 2
        new(1, 8, 9, 4, 6, 3, 3, PadTop: 2, PadLeft: 2, PadBottom: 2, PadRight: 2, DilationHeight: 2, DilationWidth: 2),
        new(1, 6, 6, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, Groups: 6),                        // depthwise
        new(2, 5, 6, 4, 6, 5, 3, 1, 2, 0, 2, 1, 0, Groups: 2),                        // 5x3, asymmetric pads, groups
        new(1, 4, 4, 3, 33, 2, 2, 1, 1, 0, 0, 1, 1),                                  // N above two tiles
        // K = 2700: 84 output pixels make three 36-row (MR 6) or 36-row (MR 4) im2col blocks, gathered block by
        // block on one thread and one block per worker on the 3-thread pool.
        new(1, 6, 14, 300, 3, 3, 3, PadTop: 1, PadLeft: 1, PadBottom: 1, PadRight: 1),
        // A multiple of 4 channels per group: the indirect GEMM on AVX-VNNI (symmetric weights; the seeds with
        // weight zero points take im2col). Full and partial 16-column panels, partial last tiles, several pixel
        // blocks (420 and 144 output pixels against 96- and 78-pixel blocks), strides, asymmetric padding,
        // dilation, groups, batch, 5x5 and 7x7 taps.
        new(1, 9, 10, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1),
        new(1, 11, 9, 16, 20, 3, 3, 2, 2, 1, 1, 1, 1),
        new(2, 8, 7, 12, 48, 3, 3, 1, 1, PadTop: 0, PadLeft: 2, PadBottom: 2, PadRight: 0, DilationHeight: 2),
        new(1, 6, 7, 16, 32, 5, 5, 1, 1, 2, 2, 2, 2, Groups: 2),
        new(1, 20, 21, 4, 17, 3, 3, 1, 1, 1, 1, 1, 1),
        new(1, 12, 12, 4, 16, 7, 7, 1, 1, 3, 3, 3, 3),
        new(1, 5, 5, 64, 64, 3, 3, 2, 1, 0, 1, 1, 0),
    ];

    private static void RunAll(Isa isa)
    {
        var table = KernelTable.For(isa);
        int seed = 0;
        foreach (var shape in Shapes())
        {
            foreach (var kind in Enum.GetValues<QGemmOutputKind>())
            {
                seed++;
                Verify(table, shape, kind, signed: seed % 2 == 0, seed, pool: null);
            }
            Verify(table, shape, QGemmOutputKind.UInt8, signed: false, seed + 500, s_pool.Value);
            // Symmetric weights (what the indirect GEMM of the AVX-VNNI path takes; the others gather im2col rows the
            // cases above already check) for every output kind and input sign, and on the pool.
            if (isa == Isa.AvxVnni && shape.GroupInChannels % 4 == 0 && shape.KernelHeight * shape.KernelWidth > 1)
            {
                foreach (var kind in Enum.GetValues<QGemmOutputKind>())
                    foreach (bool signed in new[] { false, true })
                        Verify(table, shape, kind, signed, ++seed + 1000, pool: null, symmetricWeights: true);
                Verify(table, shape, QGemmOutputKind.Int8, signed: true, seed + 2000, s_pool.Value, symmetricWeights: true);
                Verify(table, shape, QGemmOutputKind.UInt8, signed: false, seed + 2001, s_pool.Value, symmetricWeights: true);
            }
        }
    }

    private static void Verify(KernelTable table, Conv2DShape s, QGemmOutputKind kind, bool signed, int seed, WorkerPool? pool, bool symmetricWeights = false)
    {
        var rng = new Random(seed);
        int inStride = s.InChannels + seed % 3, pixels = s.Batch * s.Height * s.Width;
        var x = new byte[pixels * inStride];
        rng.NextBytes(x);
        int za = signed ? new[] { -128, 127, 3 }[seed % 3] : new[] { 0, 255, 128 }[seed % 3];
        var w = new sbyte[s.OutChannels * s.GroupInChannels * s.KernelHeight * s.KernelWidth];
        for (int i = 0; i < w.Length; i++) w[i] = (sbyte)rng.Next(-128, 128);
        int[] bias = seed % 3 == 0 ? [] : Enumerable.Range(0, s.OutChannels).Select(_ => rng.Next(-50000, 50000)).ToArray();
        int[] zb = symmetricWeights ? [] : (seed % 4) switch { 0 => [rng.Next(-128, 128)], 1 => Enumerable.Range(0, s.OutChannels).Select(_ => rng.Next(-128, 128)).ToArray(), _ => [] };
        float[] scales = kind == QGemmOutputKind.Int32 ? []
            : Enumerable.Range(0, seed % 2 == 0 ? s.OutChannels : 1).Select(_ => (float)(rng.NextDouble() + 0.1) / (s.GemmK * 128)).ToArray();
        int outZp = kind == QGemmOutputKind.Int8 ? -5 : 7;
        (int min, int max) = kind == QGemmOutputKind.Int8 ? (-128, 127) : (0, 255);
        if (seed % 5 == 0) min = outZp; // fused ReLU

        int elem = kind is QGemmOutputKind.UInt8 or QGemmOutputKind.Int8 ? 1 : 4;
        int outStride = s.OutChannels + 2, outPixels = s.Batch * s.OutHeight * s.OutWidth;
        var expected = new byte[outPixels * outStride * elem];
        rng.NextBytes(expected);
        var actual = (byte[])expected.Clone();

        var input = signed ? QGemmInput.Int8(MemoryMarshal.Cast<byte, sbyte>(x.AsSpan()), pixels, inStride, za) : QGemmInput.UInt8(x, pixels, inStride, za);
        Direct(s, input, w, bias, zb, Output(kind, expected, outStride, scales, outZp, min, max));

        var conv = new QConv2D(table, s, w);
        var scratch = new byte[conv.ScratchBytes];
        conv.Run(input, Output(kind, actual, outStride, scales, outZp, min, max), scratch, bias, zb, pool);
        QGemmCase.Compare(expected, actual, elem, outStride, $"{table.QGemmKernelName} conv {s} {kind} seed={seed} threads={pool?.ThreadCount ?? 1}");
    }

    private static QGemmOutput Output(QGemmOutputKind kind, byte[] buffer, int stride, float[] scales, int zp, int min, int max) => kind switch
    {
        QGemmOutputKind.UInt8 => QGemmOutput.UInt8(buffer, stride, scales, zp, min, max),
        QGemmOutputKind.Int8 => QGemmOutput.Int8(MemoryMarshal.Cast<byte, sbyte>(buffer.AsSpan()), stride, scales, zp, min, max),
        QGemmOutputKind.Int32 => QGemmOutput.Int32(MemoryMarshal.Cast<byte, int>(buffer.AsSpan()), stride),
        _ => QGemmOutput.Float32(MemoryMarshal.Cast<byte, float>(buffer.AsSpan()), stride, scales),
    };

    /// <summary>The definition: y = epilogue(bias + sum over taps inside the input of (x - za) * (w - zb)).</summary>
    private static void Direct(Conv2DShape s, in QGemmInput x, sbyte[] w, int[] bias, int[] zb, in QGemmOutput y)
    {
        int cg = s.GroupInChannels, ng = s.GroupOutChannels;
        var yInt = MemoryMarshal.Cast<byte, int>(y.Data);
        var yFloat = MemoryMarshal.Cast<byte, float>(y.Data);
        for (int b = 0; b < s.Batch; b++)
        for (int oy = 0; oy < s.OutHeight; oy++)
        for (int ox = 0; ox < s.OutWidth; ox++)
        for (int o = 0; o < s.OutChannels; o++)
        {
            int g = o / ng, acc = bias.Length == 0 ? 0 : bias[o];
            int z = zb.Length == 0 ? 0 : zb[zb.Length == 1 ? 0 : o];
            for (int c = 0; c < cg; c++)
            for (int ky = 0; ky < s.KernelHeight; ky++)
            for (int kx = 0; kx < s.KernelWidth; kx++)
            {
                int iy = oy * s.StrideHeight - s.PadTop + ky * s.DilationHeight;
                int ix = ox * s.StrideWidth - s.PadLeft + kx * s.DilationWidth;
                if (iy < 0 || iy >= s.Height || ix < 0 || ix >= s.Width) continue;
                byte raw = x.Data[((b * s.Height + iy) * s.Width + ix) * x.Stride + g * cg + c];
                int xv = x.IsSigned ? (sbyte)raw : raw;
                acc = unchecked(acc + (xv - x.ZeroPoint) * (w[((o * cg + c) * s.KernelHeight + ky) * s.KernelWidth + kx] - z));
            }
            int at = ((b * s.OutHeight + oy) * s.OutWidth + ox) * y.Stride + o;
            float scale = y.Scales.Length == 0 ? 0 : y.Scales[y.Scales.Length == 1 ? 0 : o];
            switch (y.Kind)
            {
                case QGemmOutputKind.Int32: yInt[at] = acc; break;
                case QGemmOutputKind.Float32: yFloat[at] = Requantization.Dequantize(acc, scale); break;
                default: y.Data[at] = (byte)Requantization.Requantize(acc, scale, y.ZeroPoint, y.Min, y.Max); break;
            }
        }
    }

    private static void ArgumentErrors()
    {
        var table = KernelTable.For(Isa.Scalar);
        var e = Expect.Throws<ArgumentException>(() => new QConv2D(table, new Conv2DShape(1, 4, 4, 3, 4, 3, 3, Groups: 2), new sbyte[0]), "groups");
        Expect.True(e.Message.Contains("groups"), $"message names the groups: {e.Message}");
        e = Expect.Throws<ArgumentException>(() => new QConv2D(table, new Conv2DShape(1, 4, 4, 3, 4, 3, 3), new sbyte[5]), "weights");
        Expect.True(e.Message.Contains("[4][3][3][3]"), $"message gives the expected weight shape: {e.Message}");
        e = Expect.Throws<ArgumentException>(() => new QConv2D(table, new Conv2DShape(1, 2, 2, 1, 1, 5, 5), new sbyte[25]), "kernel too big");
        var conv = new QConv2D(table, new Conv2DShape(1, 4, 4, 3, 4, 3, 3), new sbyte[108]);
        e = Expect.Throws<ArgumentException>(() => conv.Run(QGemmInput.UInt8(new byte[48], 16, 3, 0), QGemmOutput.Int32(new int[16], 4), new byte[10]), "scratch");
        Expect.True(e.Message.Contains("scratch"), $"message names the scratch: {e.Message}");
    }
}
