using System.Buffers.Binary;
using System.Text;
using EdgeAgent.Compression.Bundles;

namespace EdgeAgent.Compression.Deltas;

/// <summary>
/// The uncompressed delta payload (little-endian):
/// <code>
/// u32 tensor count
/// per tensor: u16 name length, UTF-8 name, u8 element type, u8 rank, rank × u32 dims,
///             32-byte SHA-256 of the resulting tensor, u32 changed count,
///             changed count × varint index gap (index − previous index − 1, previous starts at −1),
///             then the values: int8/uint8 one signed byte each (−128 escapes to a following i16),
///             int32 zigzag varints, float32 the new value's 4 bytes.
/// </code>
/// Gaps and values are stored as separate runs because each run compresses far better on its own.
/// </summary>
internal static class DeltaPayloadCodec
{
    public const int MaxTensors = 4096;
    public const int MaxRank = 8;
    public const long MaxElements = 1L << 28;
    private const sbyte Escape = sbyte.MinValue;

    public static byte[] Encode(IReadOnlyList<TensorDelta> tensors)
    {
        var w = new ByteWriter();
        w.U32((uint)tensors.Count);
        foreach (var t in tensors)
        {
            var name = Encoding.UTF8.GetBytes(t.Name);
            w.U16((ushort)name.Length);
            w.Bytes(name);
            w.U8((byte)t.ElementType);
            w.U8((byte)t.Shape.Length);
            foreach (var d in t.Shape) w.U32((uint)d);
            w.Bytes(t.ResultSha256);
            w.U32((uint)t.Indices.Length);
            int previous = -1;
            foreach (var i in t.Indices)
            {
                w.VarUInt((ulong)(i - previous - 1));
                previous = i;
            }
            foreach (var v in t.Values)
            {
                switch (t.ElementType)
                {
                    case WeightElementType.Int8 or WeightElementType.UInt8:
                        if (v is >= -127 and <= 127) w.U8(unchecked((byte)(sbyte)v));
                        else { w.U8(unchecked((byte)Escape)); w.U16(unchecked((ushort)(short)v)); }
                        break;
                    case WeightElementType.Int32:
                        w.VarUInt((ulong)((v << 1) ^ (v >> 63)));
                        break;
                    case WeightElementType.Float32:
                        w.U32((uint)v);
                        break;
                }
            }
        }
        return w.ToArray();
    }

    public static List<TensorDelta> Decode(ReadOnlySpan<byte> payload)
    {
        var r = new ByteReader(payload);
        uint count = r.U32("tensorCount");
        if (count > MaxTensors) throw Bad("tensorCount", $"{count} exceeds {MaxTensors}");
        var result = new List<TensorDelta>((int)count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int t = 0; t < count; t++)
        {
            int nameLength = r.U16($"tensors[{t}].name");
            string name;
            try { name = new UTF8Encoding(false, true).GetString(r.Bytes(nameLength, $"tensors[{t}].name")); }
            catch (DecoderFallbackException) { throw Bad($"tensors[{t}].name", "is not valid UTF-8"); }
            if (name.Length == 0) throw Bad($"tensors[{t}].name", "is empty");
            if (!names.Add(name)) throw Bad($"tensors[{t}].name", $"'{name}' appears twice");
            string at = $"tensors.{name}";
            var type = (WeightElementType)r.U8(at + ".elementType");
            if (type is not (WeightElementType.Float32 or WeightElementType.Int8 or WeightElementType.UInt8 or WeightElementType.Int32))
                throw Bad(at + ".elementType", $"unknown element type {(byte)type}");
            int rank = r.U8(at + ".rank");
            if (rank > MaxRank) throw Bad(at + ".rank", $"{rank} exceeds {MaxRank}");
            var shape = new int[rank];
            long elements = 1;
            for (int i = 0; i < rank; i++)
            {
                uint d = r.U32(at + ".shape");
                if (d > MaxElements) throw Bad(at + ".shape", $"dimension {d} is too large");
                shape[i] = (int)d;
                elements *= d;
                if (elements > MaxElements) throw Bad(at + ".shape", $"more than {MaxElements} elements");
            }
            var hash = r.Bytes(32, at + ".sha256").ToArray();
            uint changed = r.U32(at + ".changedCount");
            if (changed > elements) throw Bad(at + ".changedCount", $"{changed} changes in a tensor of {elements} elements");
            var indices = new int[changed];
            long previous = -1;
            for (int k = 0; k < changed; k++)
            {
                ulong gap = r.VarUInt(at + ".indices");
                long index = previous + 1 + (long)Math.Min(gap, (ulong)MaxElements);
                if (index >= elements) throw Bad(at + ".indices", $"index {index} is outside a tensor of {elements} elements");
                indices[k] = (int)index;
                previous = index;
            }
            var values = new long[changed];
            for (int k = 0; k < changed; k++)
            {
                switch (type)
                {
                    case WeightElementType.Int8 or WeightElementType.UInt8:
                        sbyte b = (sbyte)r.U8(at + ".values");
                        long v = b == Escape ? (short)r.U16(at + ".values") : b;
                        if (v == 0 || v is < -255 or > 255) throw Bad(at + ".values", $"difference {v} is impossible for an 8-bit tensor");
                        values[k] = v;
                        break;
                    case WeightElementType.Int32:
                        ulong z = r.VarUInt(at + ".values");
                        long d32 = (long)(z >> 1) ^ -(long)(z & 1);
                        if (d32 == 0 || d32 is < -(1L << 32) or > (1L << 32)) throw Bad(at + ".values", $"difference {d32} is impossible for an int32 tensor");
                        values[k] = d32;
                        break;
                    case WeightElementType.Float32:
                        values[k] = r.U32(at + ".values");
                        break;
                }
            }
            result.Add(new TensorDelta(name, type, shape, hash, indices, values));
        }
        if (!r.AtEnd) throw Bad("payload", $"{r.Remaining} unexpected bytes after the last tensor");
        return result;
    }

    private static BundleFormatException Bad(string field, string message) => new("delta." + field, message);

    private sealed class ByteWriter
    {
        private readonly MemoryStream _stream = new();
        public void U8(byte v) => _stream.WriteByte(v);
        public void U16(ushort v) { Span<byte> b = stackalloc byte[2]; BinaryPrimitives.WriteUInt16LittleEndian(b, v); _stream.Write(b); }
        public void U32(uint v) { Span<byte> b = stackalloc byte[4]; BinaryPrimitives.WriteUInt32LittleEndian(b, v); _stream.Write(b); }
        public void Bytes(ReadOnlySpan<byte> v) => _stream.Write(v);
        public void VarUInt(ulong v)
        {
            while (v >= 0x80) { _stream.WriteByte((byte)(v | 0x80)); v >>= 7; }
            _stream.WriteByte((byte)v);
        }
        public byte[] ToArray() => _stream.ToArray();
    }

    private ref struct ByteReader(ReadOnlySpan<byte> data)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position;
        public readonly bool AtEnd => _position == _data.Length;
        public readonly int Remaining => _data.Length - _position;

        public ReadOnlySpan<byte> Bytes(int n, string field)
        {
            if (n > _data.Length - _position) throw Bad(field, $"truncated: needs {n} bytes at payload offset {_position}, {_data.Length - _position} remain");
            var s = _data.Slice(_position, n);
            _position += n;
            return s;
        }
        public byte U8(string field) => Bytes(1, field)[0];
        public ushort U16(string field) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes(2, field));
        public uint U32(string field) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(4, field));
        public ulong VarUInt(string field)
        {
            ulong result = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                byte b = U8(field);
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0) return result;
            }
            throw Bad(field, "varint longer than 10 bytes");
        }
    }
}
