namespace EdgeAgent.Kernels;

/// <summary>Whether an int8 tensor holds unsigned (u8) or signed (s8) values.</summary>
public enum Int8Kind
{
    U8,
    S8,
}

/// <summary>
/// A 256-entry table that maps every quantized input value to its quantized output: an int8 activation
/// (sigmoid, tanh, hard-swish, hard-sigmoid, leaky ReLU, or any float function) becomes one lookup per element.
/// Built once per node from the input and output quantization; indexed by the input's bit pattern, so u8 and
/// s8 tables are applied the same way (<see cref="KernelTable.Lookup(Int8LookupTable, ReadOnlySpan{byte}, Span{byte})"/>).
/// Entries are <c>clamp(RNE(f(sx (q - zx)) / sy) + zy)</c>, computed in double.
/// </summary>
public sealed class Int8LookupTable
{
    internal readonly byte[] Entries = new byte[256];

    /// <summary>The element type of the input and output.</summary>
    public Int8Kind Kind { get; }

    /// <summary>The output for input bit pattern <paramref name="index"/> (0..255), as a bit pattern.</summary>
    public byte this[int index] => Entries[index];

    private Int8LookupTable(Int8Kind kind) => Kind = kind;

    /// <summary>The table of any float function <paramref name="f"/>.</summary>
    public static Int8LookupTable FromFunction(Func<double, double> f, Int8Kind kind, float inputScale, int inputZeroPoint, float outputScale, int outputZeroPoint)
    {
        ArgumentNullException.ThrowIfNull(f);
        var (min, max) = kind == Int8Kind.U8 ? (0, 255) : (-128, 127);
        if (!(inputScale > 0) || !float.IsFinite(inputScale)) throw new ArgumentException($"lookup table: input scale must be positive and finite, got {inputScale}");
        if (!(outputScale > 0) || !float.IsFinite(outputScale)) throw new ArgumentException($"lookup table: output scale must be positive and finite, got {outputScale}");
        if (inputZeroPoint < min || inputZeroPoint > max) throw new ArgumentException($"lookup table: input zero point {inputZeroPoint} outside {min}..{max} ({kind})");
        if (outputZeroPoint < min || outputZeroPoint > max) throw new ArgumentException($"lookup table: output zero point {outputZeroPoint} outside {min}..{max} ({kind})");
        var table = new Int8LookupTable(kind);
        for (int bits = 0; bits < 256; bits++)
        {
            int q = kind == Int8Kind.U8 ? bits : (sbyte)(byte)bits;
            double y = f((double)inputScale * (q - inputZeroPoint)) / outputScale;
            double rounded = double.IsNaN(y) ? outputZeroPoint : Math.Round(Math.Clamp(y, -1e9, 1e9), MidpointRounding.ToEven) + outputZeroPoint;
            table.Entries[bits] = (byte)(int)Math.Clamp(rounded, min, max);
        }
        return table;
    }

    /// <summary>Logistic sigmoid, <c>1 / (1 + e^-x)</c> (ONNX Sigmoid, QLinearSigmoid).</summary>
    public static Int8LookupTable Sigmoid(Int8Kind kind, float inputScale, int inputZeroPoint, float outputScale, int outputZeroPoint) =>
        FromFunction(x => 1.0 / (1.0 + Math.Exp(-x)), kind, inputScale, inputZeroPoint, outputScale, outputZeroPoint);

    /// <summary>Hyperbolic tangent (ONNX Tanh).</summary>
    public static Int8LookupTable Tanh(Int8Kind kind, float inputScale, int inputZeroPoint, float outputScale, int outputZeroPoint) =>
        FromFunction(Math.Tanh, kind, inputScale, inputZeroPoint, outputScale, outputZeroPoint);

    /// <summary>ONNX HardSigmoid: <c>max(0, min(1, alpha x + beta))</c>.</summary>
    public static Int8LookupTable HardSigmoid(Int8Kind kind, float inputScale, int inputZeroPoint, float outputScale, int outputZeroPoint, float alpha = 0.2f, float beta = 0.5f) =>
        FromFunction(x => Math.Max(0.0, Math.Min(1.0, alpha * x + beta)), kind, inputScale, inputZeroPoint, outputScale, outputZeroPoint);

    /// <summary>ONNX HardSwish: <c>x * max(0, min(1, x / 6 + 1/2))</c>.</summary>
    public static Int8LookupTable HardSwish(Int8Kind kind, float inputScale, int inputZeroPoint, float outputScale, int outputZeroPoint) =>
        FromFunction(x => x * Math.Max(0.0, Math.Min(1.0, x / 6.0 + 0.5)), kind, inputScale, inputZeroPoint, outputScale, outputZeroPoint);

    /// <summary>ONNX LeakyRelu: <c>x &gt;= 0 ? x : alpha x</c> (QLinearLeakyRelu).</summary>
    public static Int8LookupTable LeakyRelu(Int8Kind kind, float inputScale, int inputZeroPoint, float outputScale, int outputZeroPoint, float alpha = 0.01f) =>
        FromFunction(x => x >= 0 ? x : alpha * x, kind, inputScale, inputZeroPoint, outputScale, outputZeroPoint);
}
