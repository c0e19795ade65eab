using System.Buffers.Binary;
using System.Text;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Onnx;

/// <summary>NumPy <c>.npy</c> files (format versions 1-3, C order, little-endian) to and from tensors.</summary>
public static class NpyFile
{
    // A u8 string literal would encode U+0093 as UTF-8 (C2 93); NumPy's magic is the single byte 0x93.
    private static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    public static Tensor Read(string path, LoadLimits? limits = null)
    {
        limits ??= LoadLimits.Default;
        var bytes = OnnxReader.ReadFileBounded(path, limits.MaxTensorBytes + 65536, "npy");
        return Parse(bytes, path);
    }

    public static Tensor Parse(byte[] bytes, string where = "npy")
    {
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic)) throw new ModelLoadException($"{where}: not a .npy file (bad magic)");
        int major = bytes[6];
        int headerLength, headerStart;
        if (major == 1) { headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8)); headerStart = 10; }
        else if (major is 2 or 3)
        {
            if (bytes.Length < 12) throw new ModelLoadException($"{where}: truncated .npy header");
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8));
            if (len > int.MaxValue) throw new ModelLoadException($"{where}: .npy header length {len} is too large");
            headerLength = (int)len;
            headerStart = 12;
        }
        else throw new ModelLoadException($"{where}: unsupported .npy version {major}");
        if (headerStart + headerLength > bytes.Length) throw new ModelLoadException($"{where}: truncated .npy header");
        string header = Encoding.Latin1.GetString(bytes, headerStart, headerLength);
        string descr = DictValue(header, "descr", where).Trim('\'', '"');
        string fortran = DictValue(header, "fortran_order", where);
        string shapeText = DictValue(header, "shape", where);
        if (fortran != "False") throw new ModelLoadException($"{where}: field 'fortran_order': only C-order arrays are supported");
        var type = descr switch
        {
            "<f4" => DataType.Float, "<f8" => DataType.Double, "<f2" => DataType.Float16,
            "|u1" or "<u1" => DataType.UInt8, "|i1" or "<i1" => DataType.Int8, "|b1" or "<b1" => DataType.Bool,
            "<i2" => DataType.Int16, "<u2" => DataType.UInt16, "<i4" => DataType.Int32, "<u4" => DataType.UInt32,
            "<i8" => DataType.Int64, "<u8" => DataType.UInt64,
            _ => throw new ModelLoadException($"{where}: field 'descr': unsupported dtype '{descr}' (little-endian numeric types only)"),
        };
        var dims = new List<int>();
        foreach (var part in shapeText.Trim('(', ')').Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, out int d) || d < 0) throw new ModelLoadException($"{where}: field 'shape': bad dimension '{part}'");
            dims.Add(d);
        }
        int dataStart = headerStart + headerLength;
        int count;
        int byteCount;
        try { count = Tensor.CheckedElementCount(type, dims.ToArray(), out byteCount); }
        catch (ArgumentException e) { throw new ModelLoadException($"{where}: field 'shape': {e.Message}"); }
        if (bytes.Length - dataStart != byteCount)
            throw new ModelLoadException($"{where}: holds {bytes.Length - dataStart} data bytes, shape ({string.Join(",", dims)}) of {type.ToName()} needs {byteCount}");
        _ = count;
        return Tensor.FromBytes(type, dims.ToArray(), bytes.AsSpan(dataStart).ToArray());
    }

    private static string DictValue(string header, string key, string where)
    {
        int k = header.IndexOf($"'{key}'", StringComparison.Ordinal);
        if (k < 0) throw new ModelLoadException($"{where}: .npy header lacks '{key}'");
        int colon = header.IndexOf(':', k);
        if (colon < 0) throw new ModelLoadException($"{where}: .npy header is malformed at '{key}'");
        int start = colon + 1;
        while (start < header.Length && header[start] == ' ') start++;
        int end;
        if (start < header.Length && header[start] == '(') end = header.IndexOf(')', start) + 1;
        else
        {
            end = start;
            while (end < header.Length && header[end] != ',' && header[end] != '}') end++;
        }
        if (end <= start) throw new ModelLoadException($"{where}: .npy header is malformed at '{key}'");
        return header[start..end].Trim();
    }

    public static byte[] ToBytes(Tensor t)
    {
        string descr = t.DataType switch
        {
            DataType.Float => "<f4", DataType.Double => "<f8", DataType.Float16 => "<f2",
            DataType.UInt8 => "|u1", DataType.Int8 => "|i1", DataType.Bool => "|b1",
            DataType.Int16 => "<i2", DataType.UInt16 => "<u2", DataType.Int32 => "<i4", DataType.UInt32 => "<u4",
            DataType.Int64 => "<i8", DataType.UInt64 => "<u8",
            _ => throw new NotSupportedException($"{t.DataType.ToName()} tensors cannot be written as .npy"),
        };
        string shape = t.Rank == 1 ? $"({t.Shape[0]},)" : "(" + string.Join(", ", t.Shape.ToArray()) + ")";
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        // Pad so that the data starts on a 64-byte boundary, as NumPy does.
        int total = 10 + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        string header = dict + new string(' ', pad) + "\n";
        var bytes = new byte[10 + header.Length + t.ByteLength];
        Magic.CopyTo(bytes);
        bytes[6] = 1;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        Encoding.Latin1.GetBytes(header, bytes.AsSpan(10));
        t.Bytes.CopyTo(bytes.AsSpan(10 + header.Length));
        return bytes;
    }

    public static void Write(Tensor t, string path) => File.WriteAllBytes(path, ToBytes(t));
}
