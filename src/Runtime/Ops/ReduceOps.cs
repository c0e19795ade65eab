using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>ReduceMean/Max/Min/Sum/Prod/L1/L2/SumSquare/LogSum/LogSumExp and ArgMax/ArgMin.</summary>
internal static class ReduceOps
{
    private enum Kind { Mean, Max, Min, Sum, Prod, L1, L2, SumSquare, LogSum, LogSumExp }

    public static void Register(Dictionary<string, OpCompiler> ops)
    {
        foreach (var k in Enum.GetValues<Kind>()) ops["Reduce" + k] = c => Reduce(c, k);
        ops["ArgMax"] = c => Arg(c, max: true);
        ops["ArgMin"] = c => Arg(c, max: false);
    }

    /// <summary>Splits a shape around reduced axes: the walk is [outer..., reduced..., ] in C order via a gather table.</summary>
    private sealed class Plan
    {
        public int[] OutShape = [];
        public int OutCount, ReduceCount;
        public int[] Base = [];     // input offset of each output element
        public int[] Offsets = [];  // input offset of each reduced element relative to Base
    }

    private static Plan MakePlan(int[] shape, bool[] reduced, bool keep)
    {
        int rank = shape.Length;
        var strides = ShapeOps.Strides(shape);
        var outShape = new List<int>();
        var keptDims = new List<int>(); var redDims = new List<int>();
        for (int d = 0; d < rank; d++)
        {
            if (reduced[d]) { redDims.Add(d); if (keep) outShape.Add(1); }
            else { keptDims.Add(d); outShape.Add(shape[d]); }
        }
        var p = new Plan { OutShape = [.. outShape] };
        p.OutCount = keptDims.Aggregate(1, (a, d) => a * shape[d]);
        p.ReduceCount = redDims.Aggregate(1, (a, d) => a * shape[d]);
        p.Base = Offsets(keptDims, shape, strides, p.OutCount);
        p.Offsets = Offsets(redDims, shape, strides, p.ReduceCount);
        return p;
    }

    private static int[] Offsets(List<int> dims, int[] shape, int[] strides, int count)
    {
        var result = new int[count];
        for (int e = 0; e < count; e++)
        {
            int rem = e, off = 0;
            for (int j = dims.Count - 1; j >= 0; j--)
            {
                int d = dims[j];
                off += rem % shape[d] * strides[d];
                rem /= shape[d];
            }
            result[e] = off;
        }
        return result;
    }

    private static OpKernel Reduce(CompileContext c, Kind kind)
    {
        var shape = c.InputShape(0);
        int rank = shape.Length;
        var type = c.InputType(0);
        if (!(type is DataType.Float or DataType.Double or DataType.Int32 or DataType.Int64 or DataType.UInt8 or DataType.Int8 or DataType.Float16 or DataType.Bool))
            throw c.Error("input #0", $"type {type.ToName()} is not supported");
        bool axesAsInput = c.Opset >= 18 || (kind == Kind.Sum && c.Opset >= 13);
        long[]? axes = axesAsInput ? (c.HasInput(1) ? c.RequireValue(1, "input 'axes'").ToInt64Array() : null) : c.Ints("axes");
        bool keep = c.Int("keepdims", 1) != 0;
        bool noop = c.Int("noop_with_empty_axes", 0) != 0;
        var reduced = new bool[rank];
        if (axes is null || axes.Length == 0)
        {
            if (!noop) Array.Fill(reduced, true);
        }
        else foreach (var a in axes) reduced[c.Axis(a, rank, "axes")] = true;
        var plan = MakePlan(shape, reduced, keep);
        c.SetOutput(0, type, plan.OutShape);
        return new DelegateKernel((i, o) =>
        {
            var x = i[0]!; var y = o[0];
            bool isFloat = x.DataType == DataType.Float;
            var xf = isFloat ? x.Span<float>() : default;
            for (int e = 0; e < plan.OutCount; e++)
            {
                int b = plan.Base[e];
                double acc = kind switch
                {
                    Kind.Max => double.NegativeInfinity,
                    Kind.Min => double.PositiveInfinity,
                    Kind.Prod => 1,
                    _ => 0,
                };
                double maxForLse = double.NegativeInfinity;
                if (kind == Kind.LogSumExp)
                    foreach (var off in plan.Offsets) maxForLse = Math.Max(maxForLse, isFloat ? xf[b + off] : x.GetDouble(b + off));
                foreach (var off in plan.Offsets)
                {
                    double v = isFloat ? xf[b + off] : x.GetDouble(b + off);
                    acc = kind switch
                    {
                        Kind.Max => Math.Max(acc, v),
                        Kind.Min => Math.Min(acc, v),
                        Kind.Prod => acc * v,
                        Kind.L1 => acc + Math.Abs(v),
                        Kind.L2 or Kind.SumSquare => acc + v * v,
                        Kind.LogSumExp => acc + Math.Exp(v - maxForLse),
                        _ => acc + v,
                    };
                }
                acc = kind switch
                {
                    Kind.Mean => acc / plan.ReduceCount,
                    Kind.L2 => Math.Sqrt(acc),
                    Kind.LogSum => Math.Log(acc),
                    Kind.LogSumExp => plan.ReduceCount == 0 ? double.NegativeInfinity : Math.Log(acc) + maxForLse,
                    _ => acc,
                };
                if (plan.ReduceCount == 0 && kind is Kind.Max or Kind.Min && !isFloat) acc = 0;
                CastOps.SetFromDouble(y, e, acc);
            }
        });
    }

    private static OpKernel Arg(CompileContext c, bool max)
    {
        var shape = c.InputShape(0);
        int axis = c.Axis(c.Int("axis", 0), shape.Length);
        bool keep = c.Int("keepdims", 1) != 0;
        bool last = c.Int("select_last_index", 0) != 0;
        var reduced = new bool[shape.Length];
        reduced[axis] = true;
        var plan = MakePlan(shape, reduced, keep);
        c.SetOutput(0, DataType.Int64, plan.OutShape);
        return new DelegateKernel((i, o) =>
        {
            var x = i[0]!; var y = o[0].Span<long>();
            for (int e = 0; e < plan.OutCount; e++)
            {
                int b = plan.Base[e];
                double best = 0; long at = 0;
                for (int k = 0; k < plan.ReduceCount; k++)
                {
                    double v = x.GetDouble(b + plan.Offsets[k]);
                    bool better = k == 0 || (max ? (last ? v >= best : v > best) : (last ? v <= best : v < best));
                    if (better) { best = v; at = k; }
                }
                y[e] = at;
            }
        });
    }
}
