using System.Buffers.Binary;
using System.Security.Cryptography;
using EdgeAgent.Compression.Bundles;

namespace EdgeAgent.Compression.Deltas;

/// <summary>
/// The change of one tensor: the indices of changed elements and, per index, the integer difference
/// (int8, uint8, int32 tensors) or the new value's bits (float32 tensors, whose differences would not
/// round-trip exactly). <see cref="ResultSha256"/> pins the tensor the delta must produce.
/// </summary>
public sealed class TensorDelta
{
    internal TensorDelta(string name, WeightElementType elementType, int[] shape, byte[] resultSha256, int[] indices, long[] values)
    {
        Name = name;
        ElementType = elementType;
        Shape = shape;
        ResultSha256 = resultSha256;
        Indices = indices;
        Values = values;
    }

    public string Name { get; }
    public WeightElementType ElementType { get; }
    public int[] Shape { get; }
    public byte[] ResultSha256 { get; }
    /// <summary>Ascending indices of the elements that change.</summary>
    public int[] Indices { get; }
    /// <summary>Per changed index: new − old for integer tensors, the new float's bits for float tensors.</summary>
    public long[] Values { get; }
    public int ChangedCount => Indices.Length;
    public long ElementCount => Shape.Aggregate(1L, (a, d) => a * d);

    internal static TensorDelta Compute(WeightTensor before, WeightTensor after)
    {
        var indices = new List<int>();
        var values = new List<long>();
        int n = before.ElementCount;
        var b = before.Data.AsSpan();
        var a = after.Data.AsSpan();
        for (int i = 0; i < n; i++)
        {
            long diff;
            switch (before.ElementType)
            {
                case WeightElementType.Int8: diff = (sbyte)a[i] - (sbyte)b[i]; break;
                case WeightElementType.UInt8: diff = a[i] - b[i]; break;
                case WeightElementType.Int32:
                    diff = (long)BinaryPrimitives.ReadInt32LittleEndian(a[(i * 4)..]) - BinaryPrimitives.ReadInt32LittleEndian(b[(i * 4)..]);
                    break;
                case WeightElementType.Float32:
                    uint newBits = BinaryPrimitives.ReadUInt32LittleEndian(a[(i * 4)..]);
                    if (newBits == BinaryPrimitives.ReadUInt32LittleEndian(b[(i * 4)..])) continue;
                    indices.Add(i);
                    values.Add(newBits);
                    continue;
                default: throw new ArgumentOutOfRangeException(nameof(before), before.ElementType, "unknown element type");
            }
            if (diff == 0) continue;
            indices.Add(i);
            values.Add(diff);
        }
        return new TensorDelta(after.Name, after.ElementType, after.Shape, after.Sha256(), [.. indices], [.. values]);
    }

    internal WeightTensor ApplyTo(WeightTensor baseTensor)
    {
        if (baseTensor.ElementType != ElementType || !baseTensor.Shape.AsSpan().SequenceEqual(Shape))
            throw new BundleFormatException($"delta.tensors.{Name}",
                $"base tensor is {baseTensor.ElementType} {baseTensor.ShapeText}, the delta expects {ElementType} [{string.Join(',', Shape)}]");
        var data = (byte[])baseTensor.Data.Clone();
        var span = data.AsSpan();
        for (int k = 0; k < Indices.Length; k++)
        {
            int i = Indices[k];
            long v = Values[k];
            switch (ElementType)
            {
                case WeightElementType.Int8:
                    long s8 = (sbyte)span[i] + v;
                    if (s8 is < sbyte.MinValue or > sbyte.MaxValue) throw OutOfRange(i, s8);
                    span[i] = unchecked((byte)(sbyte)s8);
                    break;
                case WeightElementType.UInt8:
                    long u8 = span[i] + v;
                    if (u8 is < 0 or > byte.MaxValue) throw OutOfRange(i, u8);
                    span[i] = (byte)u8;
                    break;
                case WeightElementType.Int32:
                    long s32 = BinaryPrimitives.ReadInt32LittleEndian(span[(i * 4)..]) + v;
                    if (s32 is < int.MinValue or > int.MaxValue) throw OutOfRange(i, s32);
                    BinaryPrimitives.WriteInt32LittleEndian(span[(i * 4)..], (int)s32);
                    break;
                case WeightElementType.Float32:
                    BinaryPrimitives.WriteUInt32LittleEndian(span[(i * 4)..], (uint)v);
                    break;
            }
        }
        if (!SHA256.HashData(data).AsSpan().SequenceEqual(ResultSha256))
            throw new BundleFormatException($"delta.tensors.{Name}", "the result does not match the delta's SHA-256 (the base tensor differs from the one the delta was made against)");
        return new WeightTensor(Name, ElementType, Shape, data);
    }

    private BundleFormatException OutOfRange(int index, long value) =>
        new($"delta.tensors.{Name}", $"element {index} would become {value}, outside {ElementType} (wrong base tensor)");
}
