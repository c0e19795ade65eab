using System.Buffers.Binary;
using System.IO.Compression;

namespace EdgeAgent.Bench.Continual;

/// <summary>Fashion-MNIST from Debian's dataset-fashion-mnist: IDX files, gzipped or not.</summary>
internal sealed record ImageSet(float[] Pixels, int[] Labels, int Rows, int Cols)
{
    public int Count => Labels.Length;
    public int Size => Rows * Cols;
    public ReadOnlySpan<float> Image(int i) => Pixels.AsSpan(i * Size, Size);
}

internal static class FashionMnist
{
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    public static readonly string[] ClassNames =
        ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"];

    public static ImageSet Load(string directory, string split)
    {
        string prefix = split == "train" ? "train" : "t10k";
        var images = ReadIdx(Path.Combine(directory, $"{prefix}-images-idx3-ubyte"), 0x803);
        var labels = ReadIdx(Path.Combine(directory, $"{prefix}-labels-idx1-ubyte"), 0x801);
        int count = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(4));
        int rows = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(8)), cols = BinaryPrimitives.ReadInt32BigEndian(images.AsSpan(12));
        if (BinaryPrimitives.ReadInt32BigEndian(labels.AsSpan(4)) != count)
            throw new InvalidDataException($"{prefix}: {count} images but {BinaryPrimitives.ReadInt32BigEndian(labels.AsSpan(4))} labels");
        var pixels = new float[count * rows * cols];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = images[16 + i] / 255f;
        var y = new int[count];
        for (int i = 0; i < count; i++) y[i] = labels[8 + i];
        return new ImageSet(pixels, y, rows, cols);
    }

    private static byte[] ReadIdx(string path, int magic)
    {
        byte[] bytes;
        if (File.Exists(path)) bytes = File.ReadAllBytes(path);
        else if (File.Exists(path + ".gz"))
        {
            using var gz = new GZipStream(File.OpenRead(path + ".gz"), CompressionMode.Decompress);
            using var ms = new MemoryStream();
            gz.CopyTo(ms);
            bytes = ms.ToArray();
        }
        else throw new FileNotFoundException($"Fashion-MNIST file not found: {path}[.gz] (install Debian's dataset-fashion-mnist)");
        if (bytes.Length < 8 || BinaryPrimitives.ReadInt32BigEndian(bytes) != magic)
            throw new InvalidDataException($"{path}: not an IDX file with magic 0x{magic:x}");
        return bytes;
    }
}
