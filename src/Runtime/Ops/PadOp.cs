using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>Pad: constant, reflect, edge and wrap modes; negative pads crop.</summary>
internal static class PadOp
{
    public static OpKernel Compile(CompileContext c)
    {
        var input = c.InputShape(0);
        int rank = input.Length;
        string mode = c.String("mode", "constant");
        if (mode is not ("constant" or "reflect" or "edge" or "wrap")) throw c.Error("mode", $"unknown mode '{mode}'");
        long[] spec = (c.Opset < 11 ? c.Ints("pads") : c.RequireValue(1, "input 'pads'").ToInt64Array()) ?? throw c.Error("pads", "missing");
        var pads = new long[2 * rank];
        if (c.Opset >= 18 && c.HasInput(3))
        {
            var axes = c.RequireValue(3, "input 'axes'").ToInt64Array();
            if (spec.Length != 2 * axes.Length) throw c.Error("pads", $"{spec.Length} values for {axes.Length} axes");
            for (int k = 0; k < axes.Length; k++)
            {
                int a = c.Axis(axes[k], rank, "axes");
                pads[a] = spec[k];
                pads[a + rank] = spec[k + axes.Length];
            }
        }
        else
        {
            if (spec.Length != 2 * rank) throw c.Error("pads", $"{spec.Length} values for rank {rank}");
            pads = spec;
        }
        var output = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            long o = input[d] + pads[d] + pads[d + rank];
            if (o < 0 || o > int.MaxValue) throw c.Error("pads", $"dimension {d} would become {o}");
            output[d] = (int)o;
            if (mode != "constant" && input[d] == 0 && o > 0) throw c.Error("mode", $"'{mode}' cannot pad an empty dimension");
        }
        var type = c.InputType(0);
        c.SetOutput(0, type, output);
        int size = type.SizeOf();
        double attrValue = c.Float("value", 0);
        bool opsetHasValueInput = c.Opset >= 11;
        var outStrides = ShapeOps.Strides(output); var inStrides = ShapeOps.Strides(input);
        var fill = new byte[size];
        var fillTensor = Tensor.Allocate(type, [1]);
        return new DelegateKernel((i, o) =>
        {
            var src = i[0]!.Bytes; var dst = o[0].Bytes;
            Tensor? value = opsetHasValueInput && i.Length > 2 ? i[2] : null;
            if (value is not null && value.ElementCount > 0) value.Bytes[..size].CopyTo(fill);
            else { CastOps.SetFromDouble(fillTensor, 0, attrValue); fillTensor.Bytes.CopyTo(fill); }
            int n = o[0].ElementCount;
            for (int e = 0; e < n; e++)
            {
                int rem = e, off = 0;
                bool outside = false;
                for (int d = 0; d < rank; d++)
                {
                    int q = rem / outStrides[d];
                    rem -= q * outStrides[d];
                    long j = q - pads[d];
                    int dim = input[d];
                    if (j < 0 || j >= dim)
                    {
                        switch (mode)
                        {
                            case "constant": outside = true; break;
                            case "edge": j = j < 0 ? 0 : dim - 1; break;
                            case "wrap": j = ((j % dim) + dim) % dim; break;
                            default:
                                if (dim == 1) { j = 0; break; }
                                long period = 2L * (dim - 1);
                                j = ((j % period) + period) % period;
                                if (j >= dim) j = period - j;
                                break;
                        }
                    }
                    if (outside) break;
                    off += (int)j * inStrides[d];
                }
                var to = dst.Slice(e * size, size);
                if (outside) fill.CopyTo(to);
                else src.Slice(off * size, size).CopyTo(to);
            }
        });
    }
}
