using EdgeAgent.Compression.Data;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Bench.Compression;

/// <summary>Debian's dataset-fashion-mnist as training sets [1, 28, 28], pixels in [0, 1].</summary>
internal static class FashionMnistSet
{
    public const string DefaultDirectory = "/usr/share/datasets/fashion-mnist";

    /// <summary>
    /// The first <paramref name="limit"/> samples of a split. The files are class-interleaved, so a
    /// prefix is a fair subsample (checked: every class appears).
    /// </summary>
    public static TrainingSet Load(string directory, string split, int limit)
    {
        string prefix = split == "train" ? "train" : "t10k";
        string images = Path.Combine(directory, $"{prefix}-images-idx3-ubyte");
        if (!File.Exists(images)) images += ".gz";
        if (!File.Exists(images)) throw new FileNotFoundException($"{images}: not found (install Debian's dataset-fashion-mnist)");
        var (pixels, shape) = IdxFile.Read(images);
        var labelsPath = IdxFile.LabelsFor(images) ?? throw new FileNotFoundException($"{images}: no labels file beside it");
        var (labelBytes, _) = IdxFile.Read(labelsPath);
        int count = Math.Min(limit, shape[0]), size = shape[1] * shape[2];
        var x = new float[count * size];
        for (int i = 0; i < x.Length; i++) x[i] = pixels[i] / 255f;
        var y = labelBytes.AsSpan(0, count).ToArray().Select(b => (int)b).ToArray();
        if (y.Distinct().Count() != 10) throw new InvalidDataException($"{images}: the first {count} samples do not cover all 10 classes");
        return new TrainingSet(x, [1, shape[1], shape[2]], y);
    }
}
