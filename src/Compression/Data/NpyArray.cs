using System.Buffers.Binary;
using System.Text;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Compression.Data;

/// <summary>
/// NumPy .npy arrays (format 1.0-3.0, little-endian, C order): the magic is the byte 0x93 followed by
/// ASCII "NUMPY", then major/minor version, header length (u16 for 1.x, u32 after), a Python dict
/// literal with 'descr', 'fortran_order' and 'shape', padded, then the raw data.
/// </summary>
public static class NpyArray
{
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static Tensor Parse(byte[] bytes, string where)
    {
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic)) throw new DataFormatException($"{where}: not a .npy file (bad magic)");
        int major = bytes[6];
        int headerStart = major == 1 ? 10 : major is 2 or 3 ? 12 : throw new DataFormatException($"{where}: unsupported .npy version {major}");
        if (bytes.Length < headerStart) throw new DataFormatException($"{where}: truncated .npy header");
        long headerLength = major == 1 ? BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)) : BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
        if (headerStart + headerLength > bytes.Length) throw new DataFormatException($"{where}: truncated .npy header");
        var header = Encoding.Latin1.GetString(bytes, headerStart, (int)headerLength);
        var descr = Value(header, "descr", where).Trim('\'', '"');
        if (Value(header, "fortran_order", where) != "False") throw new DataFormatException($"{where}: Fortran-order arrays are not supported");
        var type = descr switch
        {
            "<f4" => DataType.Float, "<f8" => DataType.Double, "<f2" => DataType.Float16,
            "|u1" or "<u1" => DataType.UInt8, "|i1" or "<i1" => DataType.Int8, "|b1" => DataType.Bool,
            "<i2" => DataType.Int16, "<u2" => DataType.UInt16, "<i4" => DataType.Int32, "<u4" => DataType.UInt32,
            "<i8" => DataType.Int64, "<u8" => DataType.UInt64,
            _ => throw new DataFormatException($"{where}: dtype '{descr}' is not supported (little-endian numbers only)"),
        };
        var dims = new List<int>();
        foreach (var part in Value(header, "shape", where).Trim('(', ')').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int d))
                throw new DataFormatException($"{where}: bad dimension '{part}' in the shape");
            dims.Add(d);
        }
        int dataStart = headerStart + (int)headerLength;
        int byteCount;
        try { Tensor.CheckedElementCount(type, dims.ToArray(), out byteCount); }
        catch (ArgumentException e) { throw new DataFormatException($"{where}: {e.Message}", e); }
        if (bytes.Length - dataStart != byteCount)
            throw new DataFormatException($"{where}: holds {bytes.Length - dataStart} data bytes, shape ({string.Join(",", dims)}) of {type.ToName()} needs {byteCount}");
        return Tensor.FromBytes(type, dims.ToArray(), bytes[dataStart..]);
    }

    public static byte[] ToBytes(Tensor t)
    {
        string descr = t.DataType switch
        {
            DataType.Float => "<f4", DataType.Double => "<f8", DataType.UInt8 => "|u1", DataType.Int8 => "|i1",
            DataType.Int32 => "<i4", DataType.Int64 => "<i8",
            _ => throw new NotSupportedException($"{t.DataType.ToName()} arrays cannot be written as .npy here"),
        };
        string shape = t.Rank == 1 ? $"({t.Shape[0]},)" : "(" + string.Join(", ", t.Shape.ToArray()) + ")";
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int pad = (64 - (10 + dict.Length + 1) % 64) % 64; // data aligned to 64 bytes, as NumPy writes it
        string header = dict + new string(' ', pad) + "\n";
        var bytes = new byte[10 + header.Length + t.ByteLength];
        Magic.CopyTo(bytes);
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.Latin1.GetBytes(header, bytes.AsSpan(10));
        t.Bytes.CopyTo(bytes.AsSpan(10 + header.Length));
        return bytes;
    }

    private static string Value(string header, string key, string where)
    {
        int k = header.IndexOf($"'{key}'", StringComparison.Ordinal);
        if (k < 0) throw new DataFormatException($"{where}: .npy header has no '{key}'");
        int start = header.IndexOf(':', k) + 1;
        int end = key == "shape" ? header.IndexOf(')', start) + 1 : header.IndexOf(',', start);
        if (start <= 0 || end <= start) throw new DataFormatException($"{where}: .npy header is malformed at '{key}'");
        return header[start..end].Trim();
    }
}
