using System.Numerics;
using System.Numerics.Tensors;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>Element-wise arithmetic, comparison and logic with broadcasting; Where, PRelu, variadic Max/Min/Sum/Mean.</summary>
internal static class ElementwiseOps
{
    public static void Register(Dictionary<string, OpCompiler> ops)
    {
        ops["Add"] = Arithmetic<AddFactory>;
        ops["Sub"] = Arithmetic<SubFactory>;
        ops["Mul"] = Arithmetic<MulFactory>;
        ops["Div"] = Arithmetic<DivFactory>;
        ops["Max"] = Variadic<MaxFactory>;
        ops["Min"] = Variadic<MinFactory>;
        ops["Sum"] = Variadic<AddFactory>;
        ops["Mean"] = Mean;
        ops["Pow"] = Pow;
        ops["PRelu"] = PRelu;
        ops["Where"] = Where;
        ops["Equal"] = c => Compare(c, CompareMode.Equal);
        ops["Greater"] = c => Compare(c, CompareMode.Greater);
        ops["Less"] = c => Compare(c, CompareMode.Less);
        ops["GreaterOrEqual"] = c => Compare(c, CompareMode.GreaterOrEqual);
        ops["LessOrEqual"] = c => Compare(c, CompareMode.LessOrEqual);
        ops["And"] = c => Logic(c, (a, b) => a & b);
        ops["Or"] = c => Logic(c, (a, b) => a | b);
        ops["Xor"] = c => Logic(c, (a, b) => a ^ b);
        ops["Not"] = Not;
    }

    private static int[] BroadcastShape(CompileContext c, params int[][] shapes)
    {
        try { return Broadcast.OutputShapeOf(shapes); }
        catch (ArgumentException e) { throw c.Error("inputs", e.Message); }
    }

    private static void SameType(CompileContext c, int count)
    {
        for (int i = 1; i < count; i++)
            if (c.InputType(i) != c.InputType(0))
                throw c.Error($"input #{i}", $"type {c.InputType(i).ToName()} differs from input #0's {c.InputType(0).ToName()}");
    }

    private static OpKernel Arithmetic<TFactory>(CompileContext c) where TFactory : INumericFactory
    {
        SameType(c, 2);
        var a = c.InputShape(0); var b = c.InputShape(1);
        var output = BroadcastShape(c, a, b);
        c.SetOutput(0, c.InputType(0), output);
        return NumericDispatch.Make<TFactory>(c.InputType(0), new Broadcast(output, [a, b]), c);
    }

    private static OpKernel Variadic<TFactory>(CompileContext c) where TFactory : INumericFactory
    {
        int n = c.InputCount;
        if (n == 0) throw c.Error("inputs", "at least one input is required");
        SameType(c, n);
        var shapes = new int[n][];
        for (int i = 0; i < n; i++) shapes[i] = c.InputShape(i);
        var output = BroadcastShape(c, shapes);
        var type = c.InputType(0);
        c.SetOutput(0, type, output);
        var copy = new Broadcast(output, [shapes[0]]);
        var first = n > 1 ? NumericDispatch.Make<TFactory>(type, new Broadcast(output, [shapes[0], shapes[1]]), c) : null;
        var rest = new OpKernel[Math.Max(0, n - 2)];
        for (int i = 2; i < n; i++) rest[i - 2] = NumericDispatch.Make<TFactory>(type, new Broadcast(output, [output, shapes[i]]), c);
        var pair = new Tensor?[2];
        return new DelegateKernel((inputs, outputs) =>
        {
            if (first is null) { BroadcastCopy(copy, inputs[0]!, outputs[0]); return; }
            first.Run(inputs, outputs);
            for (int i = 2; i < inputs.Length; i++)
            {
                pair[0] = outputs[0];
                pair[1] = inputs[i];
                rest[i - 2].Run(pair, outputs);
            }
        });
    }

    /// <summary>Copies <paramref name="input"/> broadcast to the plan's output shape (any element type).</summary>
    public static void BroadcastCopy(Broadcast plan, Tensor input, Tensor output)
    {
        int size = input.DataType.SizeOf();
        var src = input.Bytes; var dst = output.Bytes;
        int inner = plan.Inner;
        for (int r = 0; r < plan.Rows; r++)
        {
            int o = plan.Offset(0, r);
            var d = dst.Slice(r * inner * size, inner * size);
            if (plan.InnerStride[0] == 1) src.Slice(o * size, inner * size).CopyTo(d);
            else
            {
                var one = src.Slice(o * size, size);
                for (int k = 0; k < inner; k++) one.CopyTo(d.Slice(k * size, size));
            }
        }
    }

    private static OpKernel Mean(CompileContext c)
    {
        var sum = Variadic<AddFactory>(c);
        c.RequireType(0, DataType.Float);
        float scale = 1f / c.InputCount;
        return new DelegateKernel((inputs, outputs) =>
        {
            sum.Run(inputs, outputs);
            var o = outputs[0].Span<float>();
            TensorPrimitives.Multiply(o, scale, o);
        });
    }

    private static OpKernel Pow(CompileContext c)
    {
        var a = c.InputShape(0); var b = c.InputShape(1);
        var output = BroadcastShape(c, a, b);
        var type = c.InputType(0);
        c.SetOutput(0, type, output);
        var plan = new Broadcast(output, [a, b]);
        if (type == DataType.Float && c.InputType(1) == DataType.Float)
        {
            return new DelegateKernel((inputs, outputs) =>
            {
                var x = inputs[0]!.Span<float>(); var y = inputs[1]!.Span<float>(); var o = outputs[0].Span<float>();
                int inner = plan.Inner;
                for (int r = 0; r < plan.Rows; r++)
                {
                    int ox = plan.Offset(0, r), oy = plan.Offset(1, r);
                    int sx = plan.InnerStride[0], sy = plan.InnerStride[1];
                    for (int k = 0; k < inner; k++) o[r * inner + k] = MathF.Pow(x[ox + k * sx], y[oy + k * sy]);
                }
            });
        }
        // Mixed types (float ^ int, int ^ float ...): computed in double, stored as the base's type.
        return new DelegateKernel((inputs, outputs) =>
        {
            var x = inputs[0]!; var y = inputs[1]!; var o = outputs[0];
            int inner = plan.Inner;
            for (int r = 0; r < plan.Rows; r++)
            {
                int ox = plan.Offset(0, r), oy = plan.Offset(1, r);
                int sx = plan.InnerStride[0], sy = plan.InnerStride[1];
                for (int k = 0; k < inner; k++)
                    CastOps.SetFromDouble(o, r * inner + k, Math.Pow(x.GetDouble(ox + k * sx), y.GetDouble(oy + k * sy)));
            }
        });
    }

    private static OpKernel PRelu(CompileContext c)
    {
        c.RequireType(0, DataType.Float);
        c.RequireType(1, DataType.Float);
        var x = c.InputShape(0); var slope = c.InputShape(1);
        // Before opset 7 a 1-d slope of C values applied along the channel axis.
        if (c.Opset < 7 && slope.Length == 1 && x.Length > 2 && slope[0] == x[1] && slope[0] != x[^1])
        {
            slope = new int[x.Length - 1];
            Array.Fill(slope, 1);
            slope[0] = x[1];
        }
        var output = BroadcastShape(c, x, slope);
        if (!output.AsSpan().SequenceEqual(x)) throw c.Error("input #1 'slope'", $"shape {Tensor.FormatShape(slope)} does not broadcast to X's {Tensor.FormatShape(x)}");
        c.SetOutput(0, DataType.Float, output);
        var plan = new Broadcast(output, [x, slope]);
        return new DelegateKernel((inputs, outputs) =>
        {
            var xs = inputs[0]!.Span<float>(); var s = inputs[1]!.Span<float>(); var o = outputs[0].Span<float>();
            int inner = plan.Inner;
            for (int r = 0; r < plan.Rows; r++)
            {
                int ox = plan.Offset(0, r), os = plan.Offset(1, r), ss = plan.InnerStride[1];
                for (int k = 0; k < inner; k++)
                {
                    float v = xs[ox + k];
                    o[r * inner + k] = v < 0 ? v * s[os + k * ss] : v;
                }
            }
        });
    }

    private static OpKernel Where(CompileContext c)
    {
        c.RequireType(0, DataType.Bool);
        if (c.InputType(1) != c.InputType(2)) throw c.Error("input #2", $"type {c.InputType(2).ToName()} differs from input #1's {c.InputType(1).ToName()}");
        var output = BroadcastShape(c, c.InputShape(0), c.InputShape(1), c.InputShape(2));
        c.SetOutput(0, c.InputType(1), output);
        var plan = new Broadcast(output, [c.InputShape(0), c.InputShape(1), c.InputShape(2)]);
        int size = c.InputType(1).SizeOf();
        return new DelegateKernel((inputs, outputs) =>
        {
            var cond = inputs[0]!.Bytes; var x = inputs[1]!.Bytes; var y = inputs[2]!.Bytes; var o = outputs[0].Bytes;
            int inner = plan.Inner;
            int s0 = plan.InnerStride[0], s1 = plan.InnerStride[1], s2 = plan.InnerStride[2];
            for (int r = 0; r < plan.Rows; r++)
            {
                int oc = plan.Offset(0, r), ox = plan.Offset(1, r), oy = plan.Offset(2, r);
                for (int k = 0; k < inner; k++)
                {
                    var src = cond[oc + k * s0] != 0 ? x.Slice((ox + k * s1) * size, size) : y.Slice((oy + k * s2) * size, size);
                    src.CopyTo(o.Slice((r * inner + k) * size, size));
                }
            }
        });
    }

    private enum CompareMode { Equal, Greater, Less, GreaterOrEqual, LessOrEqual }

    private static OpKernel Compare(CompileContext c, CompareMode mode)
    {
        SameType(c, 2);
        var a = c.InputShape(0); var b = c.InputShape(1);
        var output = BroadcastShape(c, a, b);
        c.SetOutput(0, DataType.Bool, output);
        var plan = new Broadcast(output, [a, b]);
        return c.InputType(0) switch
        {
            DataType.Float => new CompareKernel<float>(plan, mode),
            DataType.Double => new CompareKernel<double>(plan, mode),
            DataType.Int32 => new CompareKernel<int>(plan, mode),
            DataType.Int64 => new CompareKernel<long>(plan, mode),
            DataType.Int8 => new CompareKernel<sbyte>(plan, mode),
            DataType.UInt8 or DataType.Bool => new CompareKernel<byte>(plan, mode),
            DataType.Int16 => new CompareKernel<short>(plan, mode),
            DataType.UInt16 => new CompareKernel<ushort>(plan, mode),
            DataType.UInt32 => new CompareKernel<uint>(plan, mode),
            DataType.UInt64 => new CompareKernel<ulong>(plan, mode),
            var t => throw c.Error("input #0", $"type {t.ToName()} is not supported"),
        };
    }

    private sealed class CompareKernel<T>(Broadcast plan, CompareMode mode) : OpKernel where T : unmanaged, INumber<T>
    {
        public override void Run(Tensor?[] inputs, Tensor[] outputs)
        {
            var a = inputs[0]!.Span<T>(); var b = inputs[1]!.Span<T>(); var o = outputs[0].Bytes;
            int inner = plan.Inner, sa = plan.InnerStride[0], sb = plan.InnerStride[1];
            for (int r = 0; r < plan.Rows; r++)
            {
                int oa = plan.Offset(0, r), ob = plan.Offset(1, r);
                for (int k = 0; k < inner; k++)
                {
                    T x = a[oa + k * sa], y = b[ob + k * sb];
                    bool v = mode switch
                    {
                        CompareMode.Equal => x == y,
                        CompareMode.Greater => x > y,
                        CompareMode.Less => x < y,
                        CompareMode.GreaterOrEqual => x >= y,
                        _ => x <= y,
                    };
                    o[r * inner + k] = v ? (byte)1 : (byte)0;
                }
            }
        }
    }

    private static OpKernel Logic(CompileContext c, Func<int, int, int> op)
    {
        c.RequireType(0, DataType.Bool);
        c.RequireType(1, DataType.Bool);
        var a = c.InputShape(0); var b = c.InputShape(1);
        var output = BroadcastShape(c, a, b);
        c.SetOutput(0, DataType.Bool, output);
        var plan = new Broadcast(output, [a, b]);
        return new DelegateKernel((inputs, outputs) =>
        {
            var x = inputs[0]!.Bytes; var y = inputs[1]!.Bytes; var o = outputs[0].Bytes;
            int inner = plan.Inner, sa = plan.InnerStride[0], sb = plan.InnerStride[1];
            for (int r = 0; r < plan.Rows; r++)
            {
                int oa = plan.Offset(0, r), ob = plan.Offset(1, r);
                for (int k = 0; k < inner; k++) o[r * inner + k] = (byte)(op(x[oa + k * sa] != 0 ? 1 : 0, y[ob + k * sb] != 0 ? 1 : 0) & 1);
            }
        });
    }

    private static OpKernel Not(CompileContext c)
    {
        c.RequireType(0, DataType.Bool);
        c.SetOutput(0, DataType.Bool, c.InputShape(0));
        return new DelegateKernel((inputs, outputs) =>
        {
            var x = inputs[0]!.Bytes; var o = outputs[0].Bytes;
            for (int i = 0; i < o.Length; i++) o[i] = x[i] == 0 ? (byte)1 : (byte)0;
        });
    }
}
