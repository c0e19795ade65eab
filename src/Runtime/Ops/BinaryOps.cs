using System.Numerics;
using System.Numerics.Tensors;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>An element-wise binary operation: a scalar form and span forms for contiguous runs.</summary>
public interface IBinaryOp<T> where T : unmanaged
{
    static abstract T Invoke(T a, T b);
    static abstract void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> d);
    static abstract void Invoke(ReadOnlySpan<T> a, T b, Span<T> d);
    static abstract void Invoke(T a, ReadOnlySpan<T> b, Span<T> d);
}

public readonly struct AddOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static T Invoke(T a, T b) => a + b;
    public static void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> d) => TensorPrimitives.Add(a, b, d);
    public static void Invoke(ReadOnlySpan<T> a, T b, Span<T> d) => TensorPrimitives.Add(a, b, d);
    public static void Invoke(T a, ReadOnlySpan<T> b, Span<T> d) => TensorPrimitives.Add(b, a, d);
}

public readonly struct SubOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static T Invoke(T a, T b) => a - b;
    public static void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> d) => TensorPrimitives.Subtract(a, b, d);
    public static void Invoke(ReadOnlySpan<T> a, T b, Span<T> d) => TensorPrimitives.Subtract(a, b, d);
    public static void Invoke(T a, ReadOnlySpan<T> b, Span<T> d) => TensorPrimitives.Subtract(a, b, d);
}

public readonly struct MulOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static T Invoke(T a, T b) => a * b;
    public static void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> d) => TensorPrimitives.Multiply(a, b, d);
    public static void Invoke(ReadOnlySpan<T> a, T b, Span<T> d) => TensorPrimitives.Multiply(a, b, d);
    public static void Invoke(T a, ReadOnlySpan<T> b, Span<T> d) => TensorPrimitives.Multiply(b, a, d);
}

public readonly struct DivOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static T Invoke(T a, T b) => a / b;
    public static void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> d) { for (int i = 0; i < d.Length; i++) d[i] = a[i] / b[i]; }
    public static void Invoke(ReadOnlySpan<T> a, T b, Span<T> d) { for (int i = 0; i < d.Length; i++) d[i] = a[i] / b; }
    public static void Invoke(T a, ReadOnlySpan<T> b, Span<T> d) { for (int i = 0; i < d.Length; i++) d[i] = a / b[i]; }
}

public readonly struct FloatDivOp : IBinaryOp<float>
{
    public static float Invoke(float a, float b) => a / b;
    public static void Invoke(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Divide(a, b, d);
    public static void Invoke(ReadOnlySpan<float> a, float b, Span<float> d) => TensorPrimitives.Divide(a, b, d);
    public static void Invoke(float a, ReadOnlySpan<float> b, Span<float> d) => TensorPrimitives.Divide(a, b, d);
}

public readonly struct MaxOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static T Invoke(T a, T b) => T.IsNaN(a) || T.IsNaN(b) ? a + b : a > b ? a : b;
    public static void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> d) { for (int i = 0; i < d.Length; i++) d[i] = Invoke(a[i], b[i]); }
    public static void Invoke(ReadOnlySpan<T> a, T b, Span<T> d) { for (int i = 0; i < d.Length; i++) d[i] = Invoke(a[i], b); }
    public static void Invoke(T a, ReadOnlySpan<T> b, Span<T> d) { for (int i = 0; i < d.Length; i++) d[i] = Invoke(a, b[i]); }
}

public readonly struct MinOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static T Invoke(T a, T b) => T.IsNaN(a) || T.IsNaN(b) ? a + b : a < b ? a : b;
    public static void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> d) { for (int i = 0; i < d.Length; i++) d[i] = Invoke(a[i], b[i]); }
    public static void Invoke(ReadOnlySpan<T> a, T b, Span<T> d) { for (int i = 0; i < d.Length; i++) d[i] = Invoke(a[i], b); }
    public static void Invoke(T a, ReadOnlySpan<T> b, Span<T> d) { for (int i = 0; i < d.Length; i++) d[i] = Invoke(a, b[i]); }
}

/// <summary>Runs a binary op over a precomputed broadcast: contiguous runs go to the span forms.</summary>
public sealed class BinaryKernel<T, TOp>(Broadcast plan) : OpKernel where T : unmanaged where TOp : IBinaryOp<T>
{
    public override void Run(Tensor?[] inputs, Tensor[] outputs)
    {
        Apply(plan, inputs[0]!.Span<T>(), inputs[1]!.Span<T>(), outputs[0].Span<T>());
    }

    public static void Apply(Broadcast plan, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> o)
    {
        int inner = plan.Inner, rows = plan.Rows;
        int sa = plan.InnerStride[0], sb = plan.InnerStride[1];
        for (int r = 0; r < rows; r++)
        {
            var dst = o.Slice(r * inner, inner);
            int oa = plan.Offset(0, r), ob = plan.Offset(1, r);
            if (sa == 1 && sb == 1) TOp.Invoke(a.Slice(oa, inner), b.Slice(ob, inner), dst);
            else if (sa == 1) TOp.Invoke(a.Slice(oa, inner), b[ob], dst);
            else if (sb == 1) TOp.Invoke(a[oa], b.Slice(ob, inner), dst);
            else dst.Fill(TOp.Invoke(a[oa], b[ob]));
        }
    }
}

/// <summary>Chooses the instantiation of a generic numeric kernel for a runtime element type.</summary>
public interface INumericFactory
{
    static abstract OpKernel Make<T>(Broadcast plan) where T : unmanaged, INumber<T>;
}

internal static class NumericDispatch
{
    public static OpKernel Make<TFactory>(DataType type, Broadcast plan, CompileContext ctx) where TFactory : INumericFactory => type switch
    {
        DataType.Float => TFactory.Make<float>(plan),
        DataType.Double => TFactory.Make<double>(plan),
        DataType.Int32 => TFactory.Make<int>(plan),
        DataType.Int64 => TFactory.Make<long>(plan),
        DataType.Int8 => TFactory.Make<sbyte>(plan),
        DataType.UInt8 => TFactory.Make<byte>(plan),
        DataType.Int16 => TFactory.Make<short>(plan),
        DataType.UInt16 => TFactory.Make<ushort>(plan),
        DataType.UInt32 => TFactory.Make<uint>(plan),
        DataType.UInt64 => TFactory.Make<ulong>(plan),
        DataType.Float16 => TFactory.Make<Half>(plan),
        _ => throw ctx.Error("input #0", $"type {type.ToName()} is not supported"),
    };
}

internal readonly struct AddFactory : INumericFactory { public static OpKernel Make<T>(Broadcast p) where T : unmanaged, INumber<T> => new BinaryKernel<T, AddOp<T>>(p); }
internal readonly struct SubFactory : INumericFactory { public static OpKernel Make<T>(Broadcast p) where T : unmanaged, INumber<T> => new BinaryKernel<T, SubOp<T>>(p); }
internal readonly struct MulFactory : INumericFactory { public static OpKernel Make<T>(Broadcast p) where T : unmanaged, INumber<T> => new BinaryKernel<T, MulOp<T>>(p); }
internal readonly struct DivFactory : INumericFactory
{
    public static OpKernel Make<T>(Broadcast p) where T : unmanaged, INumber<T> =>
        typeof(T) == typeof(float) ? new BinaryKernel<float, FloatDivOp>(p) : new BinaryKernel<T, DivOp<T>>(p);
}
internal readonly struct MaxFactory : INumericFactory { public static OpKernel Make<T>(Broadcast p) where T : unmanaged, INumber<T> => new BinaryKernel<T, MaxOp<T>>(p); }
internal readonly struct MinFactory : INumericFactory { public static OpKernel Make<T>(Broadcast p) where T : unmanaged, INumber<T> => new BinaryKernel<T, MinOp<T>>(p); }
