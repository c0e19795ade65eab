using System.Buffers.Binary;
using System.IO.Compression;

namespace EdgeAgent.Compression.Data;

/// <summary>
/// The IDX format of (Fashion-)MNIST (big-endian header: 0, 0, type 0x08 = ubyte, rank, then the dims),
/// optionally gzip-compressed, as Debian's dataset-fashion-mnist ships it.
/// </summary>
public static class IdxFile
{
    public static (byte[] Data, int[] Shape) Read(string path)
    {
        byte[] bytes;
        using (var file = File.OpenRead(path))
        {
            Stream stream = path.EndsWith(".gz", StringComparison.Ordinal) ? new GZipStream(file, CompressionMode.Decompress) : file;
            using var memory = new MemoryStream();
            try { stream.CopyTo(memory); }
            catch (InvalidDataException e) { throw new DataFormatException($"{path}: corrupt gzip data ({e.Message})", e); }
            bytes = memory.ToArray();
        }
        if (bytes.Length < 4 || bytes[0] != 0 || bytes[1] != 0)
            throw new DataFormatException($"{path}: not an IDX file (bad magic)");
        if (bytes[2] != 0x08) throw new DataFormatException($"{path}: IDX element type 0x{bytes[2]:x2} is not supported (only unsigned bytes)");
        int rank = bytes[3];
        if (rank is 0 or > 4 || bytes.Length < 4 + 4 * rank) throw new DataFormatException($"{path}: IDX header is truncated or has rank {rank}");
        var shape = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            shape[i] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i));
            if (shape[i] < 0) throw new DataFormatException($"{path}: negative dimension");
            count *= shape[i];
        }
        int offset = 4 + 4 * rank;
        if (bytes.Length - offset != count)
            throw new DataFormatException($"{path}: header promises {count} values, the file holds {bytes.Length - offset}");
        return (bytes[offset..], shape);
    }

    /// <summary>The labels file beside an images file (…-images-idx3-ubyte[.gz] → …-labels-idx1-ubyte[.gz]).</summary>
    public static string? LabelsFor(string imagesPath)
    {
        var name = Path.GetFileName(imagesPath);
        if (!name.Contains("-images-idx3-ubyte", StringComparison.Ordinal)) return null;
        var labels = Path.Combine(Path.GetDirectoryName(imagesPath) ?? ".", name.Replace("-images-idx3-ubyte", "-labels-idx1-ubyte", StringComparison.Ordinal));
        return File.Exists(labels) ? labels : null;
    }
}
