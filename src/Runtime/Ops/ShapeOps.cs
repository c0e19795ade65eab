using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>Operators that move or reinterpret data without arithmetic (any element type).</summary>
internal static class ShapeOps
{
    public static void Register(Dictionary<string, OpCompiler> ops)
    {
        ops["Reshape"] = Reshape;
        ops["Flatten"] = Flatten;
        ops["Squeeze"] = Squeeze;
        ops["Unsqueeze"] = Unsqueeze;
        ops["Transpose"] = Transpose;
        ops["Concat"] = Concat;
        ops["Split"] = Split;
        ops["Slice"] = Slice;
        ops["Expand"] = Expand;
        ops["Shape"] = Shape;
        ops["Size"] = Size;
        ops["Gather"] = Gather;
        ops["Constant"] = Constant;
        ops["ConstantOfShape"] = ConstantOfShape;
        ops["Tile"] = Tile;
        ops["Range"] = Range;
        ops["Pad"] = PadOp.Compile;
    }

    private static OpKernel Copy() => new AliasKernel();

    private static long Product(ReadOnlySpan<int> dims)
    {
        long p = 1;
        foreach (var d in dims) p *= d;
        return p;
    }

    private static OpKernel Reshape(CompileContext c)
    {
        var input = c.InputShape(0);
        long[] spec = c.Opset < 5 ? c.Ints("shape") ?? throw c.Error("shape", "attribute missing") : c.RequireValue(1, "input 'shape'").ToInt64Array();
        bool allowZero = c.Int("allowzero", 0) != 0;
        var output = new int[spec.Length];
        int unknown = -1;
        long known = 1;
        for (int i = 0; i < spec.Length; i++)
        {
            long d = spec[i];
            if (d == 0 && !allowZero)
            {
                if (i >= input.Length) throw c.Error("input 'shape'", $"0 at position {i} copies a dimension the input (rank {input.Length}) lacks");
                d = input[i];
            }
            if (d == -1)
            {
                if (unknown >= 0) throw c.Error("input 'shape'", "more than one -1");
                unknown = i;
                continue;
            }
            if (d < 0 || d > int.MaxValue) throw c.Error("input 'shape'", $"invalid dimension {spec[i]}");
            output[i] = (int)d;
            known *= d;
        }
        long total = Product(input);
        if (unknown >= 0)
        {
            if (known == 0 || total % known != 0) throw c.Error("input 'shape'", $"cannot infer -1: {total} elements into [{string.Join(",", spec)}]");
            output[unknown] = (int)(total / known);
        }
        else if (known != total) throw c.Error("input 'shape'", $"[{string.Join(",", spec)}] holds {known} elements, the input has {total}");
        c.SetOutput(0, c.InputType(0), output);
        return Copy();
    }

    private static OpKernel Flatten(CompileContext c)
    {
        var input = c.InputShape(0);
        long axis = c.Int("axis", 1);
        if (axis < 0) axis += input.Length;
        if (axis < 0 || axis > input.Length) throw c.Error("axis", $"{c.Int("axis", 1)} is out of range for rank {input.Length}");
        c.SetOutput(0, c.InputType(0), [(int)Product(input.AsSpan(0, (int)axis)), (int)Product(input.AsSpan((int)axis))]);
        return Copy();
    }

    private static OpKernel Squeeze(CompileContext c)
    {
        var input = c.InputShape(0);
        var axesSpec = c.Opset >= 13 ? (c.HasInput(1) ? c.RequireValue(1, "input 'axes'").ToInt64Array() : null) : c.Ints("axes");
        var squeeze = new bool[input.Length];
        if (axesSpec is null) for (int i = 0; i < input.Length; i++) squeeze[i] = input[i] == 1;
        else
            foreach (var a in axesSpec)
            {
                int axis = c.Axis(a, input.Length, "axes");
                if (input[axis] != 1) throw c.Error("axes", $"dimension {axis} has size {input[axis]}, not 1");
                squeeze[axis] = true;
            }
        var output = new List<int>();
        for (int i = 0; i < input.Length; i++) if (!squeeze[i]) output.Add(input[i]);
        c.SetOutput(0, c.InputType(0), [.. output]);
        return Copy();
    }

    private static OpKernel Unsqueeze(CompileContext c)
    {
        var input = c.InputShape(0);
        var axesSpec = (c.Opset >= 13 ? c.RequireValue(1, "input 'axes'").ToInt64Array() : c.Ints("axes")) ?? throw c.Error("axes", "missing");
        int rank = input.Length + axesSpec.Length;
        var inserted = new bool[rank];
        foreach (var a in axesSpec)
        {
            int axis = c.Axis(a, rank, "axes");
            if (inserted[axis]) throw c.Error("axes", $"axis {a} appears twice");
            inserted[axis] = true;
        }
        var output = new int[rank];
        for (int i = 0, k = 0; i < rank; i++) output[i] = inserted[i] ? 1 : input[k++];
        c.SetOutput(0, c.InputType(0), output);
        return Copy();
    }

    private static OpKernel Transpose(CompileContext c)
    {
        var input = c.InputShape(0);
        int rank = input.Length;
        var permSpec = c.Ints("perm");
        var perm = new int[rank];
        if (permSpec is null) for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i;
        else
        {
            if (permSpec.Length != rank) throw c.Error("perm", $"has {permSpec.Length} entries for rank {rank}");
            var seen = new bool[rank];
            for (int i = 0; i < rank; i++)
            {
                int p = c.Axis(permSpec[i], rank, "perm");
                if (seen[p]) throw c.Error("perm", $"axis {p} appears twice");
                seen[p] = true;
                perm[i] = p;
            }
        }
        var output = new int[rank];
        for (int i = 0; i < rank; i++) output[i] = input[perm[i]];
        c.SetOutput(0, c.InputType(0), output);
        var plan = new TransposePlan(input, perm, c.InputType(0).SizeOf());
        return new DelegateKernel((i, o) => plan.Apply(i[0]!.Bytes, o[0].Bytes));
    }

    private static OpKernel Concat(CompileContext c)
    {
        if (c.InputCount == 0) throw c.Error("inputs", "at least one input is required");
        var first = c.InputShape(0);
        int rank = first.Length;
        int axis = c.Axis(c.Int("axis", rank == 1 ? 0 : 1), rank);
        var output = (int[])first.Clone();
        output[axis] = 0;
        var type = c.InputType(0);
        for (int k = 0; k < c.InputCount; k++)
        {
            var s = c.InputShape(k);
            if (c.InputType(k) != type) throw c.Error($"input #{k}", $"type {c.InputType(k).ToName()} differs from {type.ToName()}");
            if (s.Length != rank) throw c.Error($"input #{k}", $"rank {s.Length} differs from {rank}");
            for (int d = 0; d < rank; d++)
                if (d != axis && s[d] != first[d]) throw c.Error($"input #{k}", $"shape {Tensor.FormatShape(s)} does not match {Tensor.FormatShape(first)} outside axis {axis}");
            output[axis] += s[axis];
        }
        c.SetOutput(0, type, output);
        int size = type.SizeOf();
        long outer = Product(first.AsSpan(0, axis));
        long innerUnit = Product(first.AsSpan(axis + 1)) * size;
        var chunk = new int[c.InputCount];
        for (int k = 0; k < chunk.Length; k++) chunk[k] = (int)(c.InputShape(k)[axis] * innerUnit);
        int row = (int)(output[axis] * innerUnit);
        return new DelegateKernel((i, o) =>
        {
            var dst = o[0].Bytes;
            int at = 0;
            for (int k = 0; k < i.Length; k++)
            {
                var src = i[k]!.Bytes;
                int len = chunk[k];
                for (long r = 0; r < outer; r++) src.Slice((int)(r * len), len).CopyTo(dst.Slice((int)(r * row) + at, len));
                at += len;
            }
        });
    }

    private static OpKernel Split(CompileContext c)
    {
        var input = c.InputShape(0);
        int axis = c.Axis(c.Int("axis", 0), input.Length);
        long[]? sizes = c.Opset >= 13 ? (c.HasInput(1) ? c.RequireValue(1, "input 'split'").ToInt64Array() : null) : c.Ints("split");
        int n = c.OutputCount;
        if (sizes is null)
        {
            long parts = c.Opset >= 18 && c.Int("num_outputs", 0) > 0 ? c.Int("num_outputs", 0) : n;
            int dim = input[axis];
            int each = (int)((dim + parts - 1) / parts);
            sizes = new long[n];
            for (int k = 0; k < n; k++) sizes[k] = Math.Max(0, Math.Min(each, dim - k * each));
        }
        if (sizes.Length != n) throw c.Error("split", $"{sizes.Length} sizes for {n} outputs");
        if (sizes.Sum() != input[axis]) throw c.Error("split", $"sizes sum to {sizes.Sum()}, dimension {axis} is {input[axis]}");
        int size = c.InputType(0).SizeOf();
        long outer = Product(input.AsSpan(0, axis));
        long innerUnit = Product(input.AsSpan(axis + 1)) * size;
        var chunk = new int[n];
        for (int k = 0; k < n; k++)
        {
            var shape = (int[])input.Clone();
            shape[axis] = (int)sizes[k];
            c.SetOutput(k, c.InputType(0), shape);
            chunk[k] = (int)(sizes[k] * innerUnit);
        }
        int row = (int)(input[axis] * innerUnit);
        return new DelegateKernel((i, o) =>
        {
            var src = i[0]!.Bytes;
            int at = 0;
            for (int k = 0; k < o.Length; k++)
            {
                int len = chunk[k];
                var dst = o[k].Bytes;
                for (long r = 0; r < outer; r++) src.Slice((int)(r * row) + at, len).CopyTo(dst.Slice((int)(r * len), len));
                at += len;
            }
        });
    }

    private static OpKernel Slice(CompileContext c)
    {
        var input = c.InputShape(0);
        int rank = input.Length;
        long[] starts, ends;
        long[]? axes, steps = null;
        if (c.Opset < 10)
        {
            starts = c.Ints("starts") ?? throw c.Error("starts", "missing");
            ends = c.Ints("ends") ?? throw c.Error("ends", "missing");
            axes = c.Ints("axes");
        }
        else
        {
            starts = c.RequireValue(1, "input 'starts'").ToInt64Array();
            ends = c.RequireValue(2, "input 'ends'").ToInt64Array();
            axes = c.HasInput(3) ? c.RequireValue(3, "input 'axes'").ToInt64Array() : null;
            steps = c.HasInput(4) ? c.RequireValue(4, "input 'steps'").ToInt64Array() : null;
        }
        if (ends.Length != starts.Length) throw c.Error("ends", $"{ends.Length} entries for {starts.Length} starts");
        var begin = new int[rank]; var step = new int[rank]; var output = (int[])input.Clone();
        for (int d = 0; d < rank; d++) step[d] = 1;
        for (int k = 0; k < starts.Length; k++)
        {
            int axis = c.Axis(axes is null ? k : axes[k], rank, "axes");
            long st = steps is null ? 1 : steps[k];
            if (st == 0) throw c.Error("steps", "a step is 0");
            long dim = input[axis];
            long s = starts[k], e = ends[k];
            if (s < 0) s += dim;
            if (e < 0) e += dim;
            long count;
            if (st > 0)
            {
                s = Math.Clamp(s, 0, dim);
                e = Math.Clamp(e, 0, dim);
                count = e > s ? (e - s + st - 1) / st : 0;
            }
            else
            {
                s = Math.Clamp(s, -1, dim - 1);
                e = Math.Clamp(e, -1, dim - 1);
                count = s > e ? (s - e - st - 1) / -st : 0;
            }
            begin[axis] = (int)s;
            step[axis] = (int)st;
            output[axis] = (int)count;
        }
        c.SetOutput(0, c.InputType(0), output);
        var plan = new StridedCopy(input, begin, step, output, c.InputType(0).SizeOf());
        return new DelegateKernel((i, o) => plan.Apply(i[0]!.Bytes, o[0].Bytes));
    }

    private static OpKernel Expand(CompileContext c)
    {
        var input = c.InputShape(0);
        var spec = c.RequireValue(1, "input 'shape'").ToInt64Array();
        var target = new int[spec.Length];
        for (int i = 0; i < spec.Length; i++)
        {
            if (spec[i] < 0 || spec[i] > int.MaxValue) throw c.Error("input 'shape'", $"invalid dimension {spec[i]}");
            target[i] = (int)spec[i];
        }
        int[] output;
        try { output = Broadcast.OutputShapeOf(input, target); }
        catch (ArgumentException e) { throw c.Error("input 'shape'", e.Message); }
        c.SetOutput(0, c.InputType(0), output);
        var plan = new Broadcast(output, [input]);
        return new DelegateKernel((i, o) => ElementwiseOps.BroadcastCopy(plan, i[0]!, o[0]));
    }

    private static OpKernel Shape(CompileContext c)
    {
        var input = c.InputShape(0);
        int rank = input.Length;
        long start = c.Int("start", 0), end = c.Int("end", rank);
        if (start < 0) start += rank;
        if (end < 0) end += rank;
        start = Math.Clamp(start, 0, rank);
        end = Math.Clamp(end, 0, rank);
        int n = (int)Math.Max(0, end - start);
        c.SetOutput(0, DataType.Int64, [n]);
        var values = new long[n];
        for (int k = 0; k < n; k++) values[k] = input[start + k];
        return new DelegateKernel((i, o) => values.CopyTo(o[0].Span<long>()));
    }

    private static OpKernel Size(CompileContext c)
    {
        long n = Product(c.InputShape(0));
        c.SetOutput(0, DataType.Int64, []);
        return new DelegateKernel((i, o) => o[0].Span<long>()[0] = n);
    }

    private static OpKernel Gather(CompileContext c)
    {
        var data = c.InputShape(0); var indices = c.InputShape(1);
        c.RequireType(1, DataType.Int32, DataType.Int64);
        int axis = c.Axis(c.Int("axis", 0), data.Length);
        var output = new List<int>();
        output.AddRange(data.AsSpan(0, axis).ToArray());
        output.AddRange(indices);
        output.AddRange(data.AsSpan(axis + 1).ToArray());
        c.SetOutput(0, c.InputType(0), [.. output]);
        int size = c.InputType(0).SizeOf();
        long outer = Product(data.AsSpan(0, axis));
        int inner = (int)(Product(data.AsSpan(axis + 1)) * size);
        int dim = data[axis];
        string node = c.Node.DisplayName;
        return new DelegateKernel((i, o) =>
        {
            var src = i[0]!.Bytes; var idx = i[1]!; var dst = o[0].Bytes;
            int n = idx.ElementCount;
            for (long r = 0; r < outer; r++)
                for (int k = 0; k < n; k++)
                {
                    long j = idx.GetInt64(k);
                    if (j < 0) j += dim;
                    if (j < 0 || j >= dim) throw new IndexOutOfRangeException($"node '{node}' (Gather): index {idx.GetInt64(k)} is out of range for dimension {dim}");
                    src.Slice((int)((r * dim + j) * inner), inner).CopyTo(dst.Slice((int)((r * n + k) * inner), inner));
                }
        });
    }

    private static OpKernel Constant(CompileContext c)
    {
        Tensor value;
        var a = c.Node.Attributes.FirstOrDefault() ?? throw c.Error("value", "no attribute gives the constant");
        value = a.Name switch
        {
            "value" => a.Tensor ?? throw c.Error("value", "is not a tensor"),
            "value_float" => Tensor.Scalar(a.Float),
            "value_floats" => Tensor.FromArray<float>(a.Floats, a.Floats.Length),
            "value_int" => Tensor.Scalar(a.Int),
            "value_ints" => Tensor.FromArray<long>(a.Ints, a.Ints.Length),
            _ => throw c.Error(a.Name, "unsupported way of giving a constant"),
        };
        c.SetOutput(0, value.DataType, value.Shape.ToArray());
        return new DelegateKernel((i, o) => value.Bytes.CopyTo(o[0].Bytes), "constant");
    }

    private static OpKernel ConstantOfShape(CompileContext c)
    {
        var spec = c.RequireValue(0, "input 'input'").ToInt64Array();
        var shape = new int[spec.Length];
        for (int k = 0; k < spec.Length; k++)
        {
            if (spec[k] < 0 || spec[k] > int.MaxValue) throw c.Error("input 'input'", $"invalid dimension {spec[k]}");
            shape[k] = (int)spec[k];
        }
        var value = c.Node.GetAttribute("value")?.Tensor ?? Tensor.Scalar(0f);
        if (value.ElementCount != 1) throw c.Error("value", "must hold one element");
        c.SetOutput(0, value.DataType, shape);
        return new DelegateKernel((i, o) =>
        {
            var one = value.Bytes; var dst = o[0].Bytes;
            for (int k = 0; k < dst.Length; k += one.Length) one.CopyTo(dst.Slice(k));
        });
    }

    private static OpKernel Tile(CompileContext c)
    {
        var input = c.InputShape(0);
        var repeats = c.RequireValue(1, "input 'repeats'").ToInt64Array();
        if (repeats.Length != input.Length) throw c.Error("input 'repeats'", $"{repeats.Length} entries for rank {input.Length}");
        var output = new int[input.Length];
        for (int d = 0; d < input.Length; d++)
        {
            if (repeats[d] < 0) throw c.Error("input 'repeats'", $"negative repeat {repeats[d]}");
            output[d] = checked((int)(input[d] * repeats[d]));
        }
        c.SetOutput(0, c.InputType(0), output);
        int size = c.InputType(0).SizeOf();
        int rank = input.Length;
        var outStrides = Strides(output); var inStrides = Strides(input);
        return new DelegateKernel((i, o) =>
        {
            var src = i[0]!.Bytes; var dst = o[0].Bytes;
            int n = o[0].ElementCount;
            for (int e = 0; e < n; e++)
            {
                int rem = e, off = 0;
                for (int d = 0; d < rank; d++)
                {
                    int q = rem / outStrides[d];
                    rem -= q * outStrides[d];
                    off += q % input[d] * inStrides[d];
                }
                src.Slice(off * size, size).CopyTo(dst.Slice(e * size, size));
            }
        });
    }

    private static OpKernel Range(CompileContext c)
    {
        var type = c.InputType(0);
        var start = c.RequireValue(0, "input 'start'"); var limit = c.RequireValue(1, "input 'limit'"); var delta = c.RequireValue(2, "input 'delta'");
        double s = start.GetDouble(0), l = limit.GetDouble(0), d = delta.GetDouble(0);
        if (d == 0) throw c.Error("input 'delta'", "is 0");
        long n = Math.Max(0, (long)Math.Ceiling((l - s) / d));
        if (n > int.MaxValue) throw c.Error("input 'limit'", "range too long");
        c.SetOutput(0, type, [(int)n]);
        return new DelegateKernel((i, o) =>
        {
            for (int k = 0; k < n; k++)
            {
                if (type is DataType.Float or DataType.Double) CastOps.SetFromDouble(o[0], k, s + k * d);
                else CastOps.SetFromInt64(o[0], k, start.GetInt64(0) + k * delta.GetInt64(0));
            }
        });
    }

    public static int[] Strides(ReadOnlySpan<int> shape)
    {
        var s = new int[shape.Length];
        int acc = 1;
        for (int d = shape.Length - 1; d >= 0; d--) { s[d] = acc; acc *= shape[d]; }
        return s;
    }
}

/// <summary>Gathers a strided window (Slice) of a tensor, byte-wise, with precomputed strides.</summary>
internal sealed class StridedCopy
{
    private readonly int[] _outShape, _inStrides, _begin, _step;
    private readonly int _size;

    public StridedCopy(int[] input, int[] begin, int[] step, int[] output, int elementSize)
    {
        _outShape = output; _begin = begin; _step = step; _size = elementSize;
        _inStrides = ShapeOps.Strides(input);
    }

    public void Apply(ReadOnlySpan<byte> src, Span<byte> dst)
    {
        int rank = _outShape.Length;
        long n = 1;
        foreach (var d in _outShape) n *= d;
        if (n == 0) return;
        if (rank == 0) { src[.._size].CopyTo(dst); return; }
        int inner = _outShape[rank - 1];
        int innerStep = _step[rank - 1] * _inStrides[rank - 1];
        int rows = (int)(n / inner);
        for (int r = 0; r < rows; r++)
        {
            int rem = r, off = 0;
            for (int d = rank - 2; d >= 0; d--)
            {
                int idx = rem % _outShape[d];
                rem /= _outShape[d];
                off += (_begin[d] + idx * _step[d]) * _inStrides[d];
            }
            off += _begin[rank - 1] * _inStrides[rank - 1];
            int o = r * inner * _size;
            if (innerStep == 1) src.Slice(off * _size, inner * _size).CopyTo(dst.Slice(o));
            else
                for (int k = 0; k < inner; k++) src.Slice((off + k * innerStep) * _size, _size).CopyTo(dst.Slice(o + k * _size, _size));
        }
    }
}

/// <summary>Transposes with precomputed strides; the innermost output dimension is the loop.</summary>
internal sealed class TransposePlan
{
    private readonly int[] _outShape, _srcStrides; // source stride for each output dim
    private readonly int _size;

    public TransposePlan(int[] input, int[] perm, int elementSize)
    {
        _size = elementSize;
        var inStrides = ShapeOps.Strides(input);
        _outShape = new int[perm.Length];
        _srcStrides = new int[perm.Length];
        for (int i = 0; i < perm.Length; i++) { _outShape[i] = input[perm[i]]; _srcStrides[i] = inStrides[perm[i]]; }
    }

    public void Apply(ReadOnlySpan<byte> src, Span<byte> dst)
    {
        int rank = _outShape.Length;
        long n = 1;
        foreach (var d in _outShape) n *= d;
        if (n == 0) return;
        if (rank == 0) { src[.._size].CopyTo(dst); return; }
        int inner = _outShape[rank - 1], innerStride = _srcStrides[rank - 1];
        int rows = (int)(n / inner);
        for (int r = 0; r < rows; r++)
        {
            int rem = r, off = 0;
            for (int d = rank - 2; d >= 0; d--)
            {
                off += rem % _outShape[d] * _srcStrides[d];
                rem /= _outShape[d];
            }
            int o = r * inner;
            if (_size == 4)
            {
                var s4 = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(src);
                var d4 = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(dst);
                for (int k = 0; k < inner; k++) d4[o + k] = s4[off + k * innerStride];
            }
            else
                for (int k = 0; k < inner; k++) src.Slice((off + k * innerStride) * _size, _size).CopyTo(dst.Slice((o + k) * _size, _size));
        }
    }
}
