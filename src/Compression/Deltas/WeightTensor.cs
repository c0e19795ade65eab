using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace EdgeAgent.Compression.Deltas;

/// <summary>
/// A named initializer of the trainable head with its raw little-endian element bytes. Deltas are
/// computed and applied on these, independent of how the model file is laid out.
/// </summary>
public sealed class WeightTensor
{
    public WeightTensor(string name, WeightElementType elementType, int[] shape, byte[] data)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new ArgumentException($"tensor '{name}': negative dimension {d}");
            count *= d;
        }
        if (count * ElementSize(elementType) != data.Length)
            throw new ArgumentException($"tensor '{name}': shape [{string.Join(',', shape)}] of {elementType} needs {count * ElementSize(elementType)} bytes, got {data.Length}");
        Name = name;
        ElementType = elementType;
        Shape = shape;
        Data = data;
    }

    public string Name { get; }
    public WeightElementType ElementType { get; }
    public int[] Shape { get; }
    /// <summary>Elements as little-endian bytes (what ONNX raw_data holds).</summary>
    public byte[] Data { get; }
    public int ElementCount => Data.Length / ElementSize(ElementType);

    public static WeightTensor FromFloats(string name, int[] shape, ReadOnlySpan<float> values) =>
        new(name, WeightElementType.Float32, shape, MemoryMarshal.AsBytes(values).ToArray());

    public static WeightTensor FromInt8(string name, int[] shape, ReadOnlySpan<sbyte> values) =>
        new(name, WeightElementType.Int8, shape, MemoryMarshal.AsBytes(values).ToArray());

    public static WeightTensor FromUInt8(string name, int[] shape, ReadOnlySpan<byte> values) =>
        new(name, WeightElementType.UInt8, shape, values.ToArray());

    public static WeightTensor FromInt32(string name, int[] shape, ReadOnlySpan<int> values) =>
        new(name, WeightElementType.Int32, shape, MemoryMarshal.AsBytes(values).ToArray());

    public ReadOnlySpan<float> AsFloats() => ElementType == WeightElementType.Float32
        ? MemoryMarshal.Cast<byte, float>(Data) : throw new InvalidOperationException($"tensor '{Name}' is {ElementType}, not Float32");

    public ReadOnlySpan<sbyte> AsInt8() => ElementType == WeightElementType.Int8
        ? MemoryMarshal.Cast<byte, sbyte>(Data) : throw new InvalidOperationException($"tensor '{Name}' is {ElementType}, not Int8");

    public ReadOnlySpan<int> AsInt32() => ElementType == WeightElementType.Int32
        ? MemoryMarshal.Cast<byte, int>(Data) : throw new InvalidOperationException($"tensor '{Name}' is {ElementType}, not Int32");

    public byte[] Sha256() => SHA256.HashData(Data);

    public bool SameLayout(WeightTensor other) =>
        ElementType == other.ElementType && Shape.AsSpan().SequenceEqual(other.Shape);

    public string ShapeText => "[" + string.Join(',', Shape) + "]";

    public static int ElementSize(WeightElementType type) => type switch
    {
        WeightElementType.Float32 or WeightElementType.Int32 => 4,
        WeightElementType.Int8 or WeightElementType.UInt8 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown element type"),
    };
}
