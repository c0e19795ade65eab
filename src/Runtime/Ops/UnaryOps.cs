using System.Numerics;
using System.Numerics.Tensors;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>Element-wise math and activations. Float runs through span loops; a few also take integers.</summary>
internal static class UnaryOps
{
    private delegate void SpanMap(ReadOnlySpan<float> x, Span<float> y);

    public static void Register(Dictionary<string, OpCompiler> ops)
    {
        Float(ops, "Relu", (x, y) => TensorPrimitives.Max(x, 0f, y), numeric: true);
        Float(ops, "Sigmoid", (x, y) => TensorPrimitives.Sigmoid(x, y));
        Float(ops, "Tanh", (x, y) => TensorPrimitives.Tanh(x, y));
        Float(ops, "Exp", (x, y) => TensorPrimitives.Exp(x, y));
        Float(ops, "Log", (x, y) => TensorPrimitives.Log(x, y));
        Float(ops, "Sqrt", (x, y) => TensorPrimitives.Sqrt(x, y));
        Float(ops, "Abs", (x, y) => TensorPrimitives.Abs(x, y), numeric: true);
        Float(ops, "Neg", (x, y) => TensorPrimitives.Negate(x, y), numeric: true);
        Float(ops, "Reciprocal", (x, y) => TensorPrimitives.Reciprocal(x, y));
        Float(ops, "Floor", (x, y) => TensorPrimitives.Floor(x, y));
        Float(ops, "Ceil", (x, y) => TensorPrimitives.Ceiling(x, y));
        Float(ops, "Round", (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = MathF.Round(x[i], MidpointRounding.ToEven); });
        Float(ops, "Sign", (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = MathF.Sign(x[i]) * (float.IsNaN(x[i]) ? float.NaN : 1); }, numeric: true);
        Float(ops, "Sin", (x, y) => TensorPrimitives.Sin(x, y));
        Float(ops, "Cos", (x, y) => TensorPrimitives.Cos(x, y));
        Float(ops, "Tan", (x, y) => TensorPrimitives.Tan(x, y));
        Float(ops, "Asin", (x, y) => TensorPrimitives.Asin(x, y));
        Float(ops, "Acos", (x, y) => TensorPrimitives.Acos(x, y));
        Float(ops, "Atan", (x, y) => TensorPrimitives.Atan(x, y));
        Float(ops, "Sinh", (x, y) => TensorPrimitives.Sinh(x, y));
        Float(ops, "Cosh", (x, y) => TensorPrimitives.Cosh(x, y));
        Float(ops, "Asinh", (x, y) => TensorPrimitives.Asinh(x, y));
        Float(ops, "Acosh", (x, y) => TensorPrimitives.Acosh(x, y));
        Float(ops, "Atanh", (x, y) => TensorPrimitives.Atanh(x, y));
        Float(ops, "Erf", (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = Erf(x[i]); });
        Float(ops, "Softplus", (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = x[i] > 20 ? x[i] : MathF.Log(1 + MathF.Exp(x[i])); });
        Float(ops, "Softsign", (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = x[i] / (1 + MathF.Abs(x[i])); });
        Float(ops, "HardSwish", (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = x[i] * Math.Clamp(x[i] / 6f + 0.5f, 0f, 1f); });
        Float(ops, "Mish", (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = x[i] * MathF.Tanh(x[i] > 20 ? x[i] : MathF.Log(1 + MathF.Exp(x[i]))); });
        FloatWith(ops, "LeakyRelu", c => { float a = c.Float("alpha", 0.01f); return (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = x[i] < 0 ? a * x[i] : x[i]; }; });
        FloatWith(ops, "Elu", c => { float a = c.Float("alpha", 1f); return (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = x[i] < 0 ? a * (MathF.Exp(x[i]) - 1) : x[i]; }; });
        FloatWith(ops, "Celu", c => { float a = c.Float("alpha", 1f); return (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = MathF.Max(0, x[i]) + MathF.Min(0, a * (MathF.Exp(x[i] / a) - 1)); }; });
        FloatWith(ops, "Selu", c =>
        {
            float a = c.Float("alpha", 1.67326319217681884765625f), g = c.Float("gamma", 1.05070102214813232421875f);
            return (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = x[i] <= 0 ? g * (a * MathF.Exp(x[i]) - a) : g * x[i]; };
        });
        FloatWith(ops, "ThresholdedRelu", c => { float a = c.Float("alpha", 1f); return (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = x[i] > a ? x[i] : 0; }; });
        FloatWith(ops, "HardSigmoid", c =>
        {
            float a = c.Float("alpha", 0.2f), b = c.Float("beta", 0.5f);
            return (x, y) => { for (int i = 0; i < y.Length; i++) y[i] = Math.Clamp(a * x[i] + b, 0f, 1f); };
        });
        FloatWith(ops, "Gelu", c =>
        {
            bool tanh = c.String("approximate", "none") == "tanh";
            return (x, y) =>
            {
                for (int i = 0; i < y.Length; i++)
                {
                    float v = x[i];
                    y[i] = tanh ? 0.5f * v * (1 + MathF.Tanh(MathF.Sqrt(2 / MathF.PI) * (v + 0.044715f * v * v * v)))
                                : 0.5f * v * (1 + Erf(v / MathF.Sqrt(2)));
                }
            };
        });
        ops["Clip"] = Clip;
        ops["Identity"] = c =>
        {
            c.SetOutput(0, c.InputType(0), c.InputShape(0));
            return new AliasKernel();
        };
    }

    private static void Float(Dictionary<string, OpCompiler> ops, string name, SpanMap map, bool numeric = false) =>
        FloatWith(ops, name, _ => map, numeric);

    private static void FloatWith(Dictionary<string, OpCompiler> ops, string name, Func<CompileContext, SpanMap> make, bool numeric = false)
    {
        ops[name] = c =>
        {
            var type = c.InputType(0);
            c.SetOutput(0, type, c.InputShape(0));
            if (type == DataType.Float)
            {
                var map = make(c);
                return new DelegateKernel((i, o) => map(i[0]!.Span<float>(), o[0].Span<float>()));
            }
            if (numeric)
            {
                return type switch
                {
                    DataType.Double => Numeric<double>(name),
                    DataType.Int32 => Numeric<int>(name),
                    DataType.Int64 => Numeric<long>(name),
                    DataType.Int8 => Numeric<sbyte>(name),
                    DataType.Int16 => Numeric<short>(name),
                    DataType.UInt8 => Numeric<byte>(name),
                    DataType.UInt16 => Numeric<ushort>(name),
                    DataType.UInt32 => Numeric<uint>(name),
                    DataType.UInt64 => Numeric<ulong>(name),
                    _ => throw c.Error("input #0", $"type {type.ToName()} is not supported"),
                };
            }
            if (type == DataType.Double)
            {
                // Double inputs go through the float implementation one element at a time; models rarely use them.
                var map = make(c);
                return new DelegateKernel((i, o) =>
                {
                    var x = i[0]!.Span<double>(); var y = o[0].Span<double>();
                    Span<float> a = stackalloc float[1]; Span<float> b = stackalloc float[1];
                    for (int k = 0; k < y.Length; k++) { a[0] = (float)x[k]; map(a, b); y[k] = b[0]; }
                });
            }
            throw c.Error("input #0", $"type {type.ToName()} is not supported");
        };
    }

    private static OpKernel Numeric<T>(string op) where T : unmanaged, INumber<T> => new DelegateKernel((i, o) =>
    {
        var x = i[0]!.Span<T>(); var y = o[0].Span<T>();
        for (int k = 0; k < y.Length; k++)
        {
            T v = x[k];
            y[k] = op switch
            {
                "Relu" => v > T.Zero ? v : T.Zero,
                "Abs" => T.Abs(v),
                "Neg" => -v,
                _ => T.CreateTruncating(T.Sign(v)),
            };
        }
    });

    private static OpKernel Clip(CompileContext c)
    {
        var type = c.InputType(0);
        c.SetOutput(0, type, c.InputShape(0));
        if (c.Opset < 11)
        {
            c.RequireType(0, DataType.Float);
            float lo = c.Float("min", float.MinValue), hi = c.Float("max", float.MaxValue);
            return new DelegateKernel((i, o) => TensorPrimitives.Clamp(i[0]!.Span<float>(), lo, hi, o[0].Span<float>()));
        }
        return type switch
        {
            DataType.Float => ClipOf<float>(),
            DataType.Double => ClipOf<double>(),
            DataType.Int8 => ClipOf<sbyte>(),
            DataType.UInt8 => ClipOf<byte>(),
            DataType.Int32 => ClipOf<int>(),
            DataType.Int64 => ClipOf<long>(),
            DataType.UInt32 => ClipOf<uint>(),
            DataType.UInt64 => ClipOf<ulong>(),
            DataType.Int16 => ClipOf<short>(),
            DataType.UInt16 => ClipOf<ushort>(),
            _ => throw c.Error("input #0", $"type {type.ToName()} is not supported"),
        };
    }

    // min and max are optional scalar inputs read at run time (they are usually constants, but need not be).
    private static OpKernel ClipOf<T>() where T : unmanaged, INumber<T>, IMinMaxValue<T> => new DelegateKernel((i, o) =>
    {
        T lo = i.Length > 1 && i[1] is { } mn ? mn.Span<T>()[0] : T.MinValue;
        T hi = i.Length > 2 && i[2] is { } mx ? mx.Span<T>()[0] : T.MaxValue;
        var x = i[0]!.Span<T>(); var y = o[0].Span<T>();
        for (int k = 0; k < y.Length; k++)
        {
            T v = x[k];
            y[k] = v < lo ? lo : v > hi ? hi : v;
        }
    });

    /// <summary>erf(x) to float precision (Abramowitz-Stegun 7.1.26 is too coarse; this uses a rational fit in double).</summary>
    public static float Erf(float x)
    {
        double z = Math.Abs((double)x);
        double t = 1.0 / (1.0 + 0.5 * z);
        // Numerical Recipes' erfc approximation, relative error below 1.2e-7.
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        double erf = 1 - r;
        return (float)(x >= 0 ? erf : -erf);
    }
}
