using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>MaxPool (with Indices), AveragePool, GlobalAveragePool, GlobalMaxPool over 1-3 spatial dims.</summary>
internal static class PoolOps
{
    public static void Register(Dictionary<string, OpCompiler> ops)
    {
        ops["MaxPool"] = c => Pool(c, max: true);
        ops["AveragePool"] = c => Pool(c, max: false);
        ops["GlobalAveragePool"] = c => Global(c, max: false);
        ops["GlobalMaxPool"] = c => Global(c, max: true);
    }

    private static OpKernel Pool(CompileContext c, bool max)
    {
        if (max) c.RequireType(0, DataType.Float, DataType.UInt8, DataType.Int8, DataType.Double);
        else c.RequireType(0, DataType.Float, DataType.Double);
        var x = c.InputShape(0);
        if (x.Length < 3) throw c.Error("input #0 'X'", $"rank {x.Length} is below 3");
        var kernel = c.Ints("kernel_shape")?.Select(v => (int)v).ToArray() ?? throw c.Error("kernel_shape", "missing");
        if (kernel.Length != x.Length - 2) throw c.Error("kernel_shape", $"{kernel.Length} values for {x.Length - 2} spatial dims");
        var geo = ConvGeometry.Of(c, x[2..], kernel, ceilMode: c.Int("ceil_mode", 0) != 0, isPool: true);
        bool includePad = c.Int("count_include_pad", 0) != 0;
        if (max && c.Int("storage_order", 0) != 0 && c.HasOutput(1)) throw c.Unsupported("storage_order", "column-major indices are not supported");
        int planes = x[0] * x[1];
        var type = c.InputType(0);
        c.SetOutput(0, type, [x[0], x[1], .. geo.Output]);
        if (max) c.SetOutput(1, DataType.Int64, [x[0], x[1], .. geo.Output]);
        var table = geo.GatherTable();
        int ks = geo.KernelSize, outSize = geo.OutputSize, inSize = geo.InputSize;
        // Divisor per output position for average pooling.
        var divisor = new float[outSize];
        if (!max)
        {
            int n = kernel.Length;
            var oIdx = new int[n];
            for (int p = 0; p < outSize; p++)
            {
                int rem = p;
                for (int d = n - 1; d >= 0; d--) { oIdx[d] = rem % geo.Output[d]; rem /= geo.Output[d]; }
                long count = 1;
                for (int d = 0; d < n; d++)
                {
                    int start = oIdx[d] * geo.Strides[d] - geo.PadBegin[d];
                    int lo = includePad ? -geo.PadBegin[d] : 0, hi = includePad ? geo.Input[d] + geo.PadEnd[d] : geo.Input[d];
                    int taps = 0;
                    for (int k = 0; k < kernel[d]; k++) { int pos = start + k * geo.Dilations[d]; if (pos >= lo && pos < hi) taps++; }
                    count *= taps;
                }
                divisor[p] = count;
            }
        }
        return new DelegateKernel((i, o) =>
        {
            var input = i[0]!; var output = o[0];
            Tensor? indices = o.Length > 1 ? o[1] : null;
            bool isFloat = input.DataType == DataType.Float;
            var xf = isFloat ? input.Span<float>() : default; var yf = isFloat ? output.Span<float>() : default;
            for (int plane = 0; plane < planes; plane++)
            {
                int inBase = plane * inSize;
                for (int p = 0; p < outSize; p++)
                {
                    double acc = max ? double.NegativeInfinity : 0;
                    long arg = -1;
                    for (int k = 0; k < ks; k++)
                    {
                        int off = table[k * outSize + p];
                        if (off < 0) continue;
                        double v = isFloat ? xf[inBase + off] : input.GetDouble(inBase + off);
                        if (max) { if (v > acc || arg < 0) { acc = v; arg = inBase + off; } }
                        else acc += v;
                    }
                    int dst = plane * outSize + p;
                    double result = max ? acc : acc / divisor[p];
                    if (isFloat) yf[dst] = (float)result;
                    else CastOps.SetFromDouble(output, dst, result);
                    if (indices is not null) indices.Span<long>()[dst] = arg;
                }
            }
        });
    }

    private static OpKernel Global(CompileContext c, bool max)
    {
        c.RequireType(0, DataType.Float);
        var x = c.InputShape(0);
        if (x.Length < 3) throw c.Error("input #0 'X'", $"rank {x.Length} is below 3");
        var outShape = x.Select((d, k) => k < 2 ? d : 1).ToArray();
        c.SetOutput(0, DataType.Float, outShape);
        int planes = x[0] * x[1], size = 1;
        for (int d = 2; d < x.Length; d++) size *= x[d];
        return new DelegateKernel((i, o) =>
        {
            var xv = i[0]!.Span<float>(); var y = o[0].Span<float>();
            for (int p = 0; p < planes; p++)
            {
                var s = xv.Slice(p * size, size);
                y[p] = max ? System.Numerics.Tensors.TensorPrimitives.Max(s) : System.Numerics.Tensors.TensorPrimitives.Sum(s) / size;
            }
        });
    }
}
