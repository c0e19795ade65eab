using System.Runtime.InteropServices;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>Cast and CastLike between every numeric type we store (bool, integers, float16/bfloat16/32/64).</summary>
internal static class CastOps
{
    public static void Register(Dictionary<string, OpCompiler> ops)
    {
        ops["Cast"] = c => Compile(c, (DataType)c.Int("to", 0));
        ops["CastLike"] = c => Compile(c, c.InputType(1));
    }

    private static bool Castable(DataType t) => t is DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16
        or DataType.Bool or DataType.Int8 or DataType.UInt8 or DataType.Int16 or DataType.UInt16 or DataType.Int32
        or DataType.UInt32 or DataType.Int64 or DataType.UInt64;

    private static OpKernel Compile(CompileContext c, DataType to)
    {
        var from = c.InputType(0);
        if (!Castable(to)) throw c.Error("to", $"casting to {to.ToName()} is not supported");
        if (!Castable(from)) throw c.Error("input #0", $"casting from {from.ToName()} is not supported");
        c.SetOutput(0, to, c.InputShape(0));
        return new DelegateKernel((inputs, outputs) => Convert(inputs[0]!, outputs[0]));
    }

    private static bool IsFloat(DataType t) => t is DataType.Float or DataType.Double or DataType.Float16 or DataType.BFloat16;

    public static void Convert(Tensor input, Tensor output)
    {
        if (input.DataType == output.DataType) { input.Bytes.CopyTo(output.Bytes); return; }
        int n = input.ElementCount;
        if (input.DataType == DataType.Float && output.DataType == DataType.Int32)
        {
            var s = input.Span<float>(); var d = output.Span<int>();
            for (int i = 0; i < n; i++) d[i] = (int)s[i];
            return;
        }
        if (input.DataType == DataType.Int64 && output.DataType == DataType.Float)
        {
            var s = input.Span<long>(); var d = output.Span<float>();
            for (int i = 0; i < n; i++) d[i] = s[i];
            return;
        }
        if (IsFloat(input.DataType) || IsFloat(output.DataType))
        {
            for (int i = 0; i < n; i++) SetFromDouble(output, i, GetDouble(input, i));
        }
        else
        {
            // Integer to integer (and bool) wraps like a C cast; ulong passes through its bit pattern.
            for (int i = 0; i < n; i++)
            {
                long v = input.DataType == DataType.UInt64 ? (long)input.Span<ulong>()[i] : input.GetInt64(i);
                SetFromInt64(output, i, v);
            }
        }
    }

    public static double GetDouble(Tensor t, int i) => t.DataType switch
    {
        DataType.BFloat16 => BFloat16ToFloat(t.Span<ushort>()[i]),
        DataType.UInt64 => t.Span<ulong>()[i],
        _ => t.GetDouble(i),
    };

    public static float BFloat16ToFloat(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    public static ushort FloatToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }

    public static void SetFromInt64(Tensor t, int i, long v)
    {
        switch (t.DataType)
        {
            case DataType.Int64: t.Span<long>()[i] = v; break;
            case DataType.Int32: t.Span<int>()[i] = (int)v; break;
            case DataType.Int16: t.Span<short>()[i] = (short)v; break;
            case DataType.Int8: t.Span<sbyte>()[i] = (sbyte)v; break;
            case DataType.UInt8: t.Span<byte>()[i] = (byte)v; break;
            case DataType.UInt16: t.Span<ushort>()[i] = (ushort)v; break;
            case DataType.UInt32: t.Span<uint>()[i] = (uint)v; break;
            case DataType.UInt64: t.Span<ulong>()[i] = (ulong)v; break;
            case DataType.Bool: t.Bytes[i] = v != 0 ? (byte)1 : (byte)0; break;
            default: SetFromDouble(t, i, v); break;
        }
    }

    public static void SetFromDouble(Tensor t, int i, double v)
    {
        switch (t.DataType)
        {
            case DataType.Float: t.Span<float>()[i] = (float)v; break;
            case DataType.Double: t.Span<double>()[i] = v; break;
            case DataType.Float16: t.Span<Half>()[i] = (Half)v; break;
            case DataType.BFloat16: t.Span<ushort>()[i] = FloatToBFloat16((float)v); break;
            case DataType.Bool: t.Bytes[i] = v != 0 ? (byte)1 : (byte)0; break;
            case DataType.UInt64: t.Span<ulong>()[i] = double.IsNaN(v) ? 0 : (ulong)v; break;
            default: SetFromInt64(t, i, double.IsNaN(v) ? 0 : (long)Math.Clamp(Math.Truncate(v), long.MinValue, long.MaxValue)); break;
        }
    }

    internal static Span<T> As<T>(Span<byte> bytes) where T : unmanaged => MemoryMarshal.Cast<byte, T>(bytes);
}
