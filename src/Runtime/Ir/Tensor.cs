using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EdgeAgent.Runtime.Ir;

/// <summary>
/// A dense tensor: element type, concrete shape and a flat little-endian buffer. A tensor may own its
/// buffer or be a view into a larger one (the session's arena), which is how Run avoids allocating.
/// </summary>
public sealed class Tensor
{
    private readonly int[] _dims;
    private readonly byte[] _buffer;
    private readonly int _offset;

    public DataType DataType { get; }

    /// <summary>Number of elements (1 for a scalar).</summary>
    public int ElementCount { get; }

    public int ByteLength { get; }

    public ReadOnlySpan<int> Shape => _dims;

    public int Rank => _dims.Length;

    private Tensor(DataType type, int[] dims, byte[] buffer, int offset, int elementCount)
    {
        DataType = type;
        _dims = dims;
        _buffer = buffer;
        _offset = offset;
        ElementCount = elementCount;
        ByteLength = elementCount * type.SizeOf();
    }

    /// <summary>A new zero-filled tensor.</summary>
    public static Tensor Allocate(DataType type, ReadOnlySpan<int> shape)
    {
        int count = CheckedElementCount(type, shape, out int bytes);
        return new Tensor(type, shape.ToArray(), bytes == 0 ? [] : new byte[bytes], 0, count);
    }

    /// <summary>A tensor viewing <paramref name="buffer"/> at <paramref name="offset"/> (no copy).</summary>
    public static Tensor View(DataType type, ReadOnlySpan<int> shape, byte[] buffer, int offset)
    {
        int count = CheckedElementCount(type, shape, out int bytes);
        if (offset < 0 || offset > buffer.Length - bytes)
            throw new ArgumentOutOfRangeException(nameof(offset), $"a {bytes}-byte view at {offset} does not fit a {buffer.Length}-byte buffer");
        return new Tensor(type, shape.ToArray(), buffer, offset, count);
    }

    /// <summary>A tensor holding a copy of <paramref name="values"/> with the given shape.</summary>
    public static Tensor FromArray<T>(ReadOnlySpan<T> values, params ReadOnlySpan<int> shape) where T : unmanaged
    {
        var t = Allocate(DataTypes.Of<T>(), shape);
        if (t.ElementCount != values.Length)
            throw new ArgumentException($"{values.Length} values do not fill shape [{string.Join(",", shape.ToArray())}] ({t.ElementCount} elements)");
        values.CopyTo(t.Span<T>());
        return t;
    }

    public static Tensor Scalar<T>(T value) where T : unmanaged => FromArray([value], ReadOnlySpan<int>.Empty);

    /// <summary>A tensor that takes ownership of raw little-endian bytes.</summary>
    public static Tensor FromBytes(DataType type, ReadOnlySpan<int> shape, byte[] bytes)
    {
        int count = CheckedElementCount(type, shape, out int length);
        if (bytes.Length != length)
            throw new ArgumentException($"{bytes.Length} bytes do not hold a {type.ToName()} tensor of shape {FormatShape(shape)} ({length} bytes)");
        return new Tensor(type, shape.ToArray(), bytes, 0, count);
    }

    public Span<byte> Bytes => _buffer.AsSpan(_offset, ByteLength);

    /// <summary>The elements as <typeparamref name="T"/>; T's size must match the element type's.</summary>
    public Span<T> Span<T>() where T : unmanaged
    {
        if (Unsafe.SizeOf<T>() != DataType.SizeOf())
            throw new InvalidOperationException($"a {DataType.ToName()} tensor cannot be read as {typeof(T).Name}");
        return MemoryMarshal.Cast<byte, T>(Bytes);
    }

    public T[] ToArray<T>() where T : unmanaged => Span<T>().ToArray();

    /// <summary>A view with another shape over the same elements.</summary>
    public Tensor Reshape(ReadOnlySpan<int> shape)
    {
        int count = CheckedElementCount(DataType, shape, out _);
        if (count != ElementCount)
            throw new ArgumentException($"cannot view {ElementCount} elements as shape {FormatShape(shape)}");
        return new Tensor(DataType, shape.ToArray(), _buffer, _offset, count);
    }

    public Tensor Clone()
    {
        var copy = Allocate(DataType, _dims);
        Bytes.CopyTo(copy.Bytes);
        return copy;
    }

    /// <summary>The value of a one-element tensor widened to a long (integer types) for attribute-like inputs.</summary>
    public long GetInt64(int index) => DataType switch
    {
        DataType.Int64 => Span<long>()[index],
        DataType.Int32 => Span<int>()[index],
        DataType.Int16 => Span<short>()[index],
        DataType.Int8 => Span<sbyte>()[index],
        DataType.UInt8 => Span<byte>()[index],
        DataType.UInt16 => Span<ushort>()[index],
        DataType.UInt32 => Span<uint>()[index],
        DataType.UInt64 => checked((long)Span<ulong>()[index]),
        DataType.Bool => Span<byte>()[index],
        _ => throw new InvalidOperationException($"a {DataType.ToName()} tensor holds no integers"),
    };

    /// <summary>The value at <paramref name="index"/> converted to double (any numeric type).</summary>
    public double GetDouble(int index) => DataType switch
    {
        DataType.Float => Span<float>()[index],
        DataType.Double => Span<double>()[index],
        DataType.Float16 => (double)Span<Half>()[index],
        _ => GetInt64(index),
    };

    public long[] ToInt64Array()
    {
        var r = new long[ElementCount];
        for (int i = 0; i < r.Length; i++) r[i] = GetInt64(i);
        return r;
    }

    public bool SameShape(ReadOnlySpan<int> shape) => shape.SequenceEqual(_dims);

    public override string ToString() => $"{DataType.ToName()}{FormatShape(_dims)}";

    public static string FormatShape(ReadOnlySpan<int> shape) => "[" + string.Join(",", shape.ToArray()) + "]";

    /// <summary>Element count of a shape, refusing negative dims and totals over 2 GiB of storage.</summary>
    public static int CheckedElementCount(DataType type, ReadOnlySpan<int> shape, out int bytes)
    {
        int size = type.SizeOf();
        if (size == 0) throw new NotSupportedException($"tensors of type {type.ToName()} are not supported");
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension in shape {FormatShape(shape)}");
            count *= d;
            if (count * size > int.MaxValue) throw new ArgumentException($"shape {FormatShape(shape)} of {type.ToName()} needs more than 2 GiB");
        }
        bytes = (int)(count * size);
        return (int)count;
    }
}
