using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Signing;

namespace EdgeAgent.Compression.Tests;

/// <summary>Keys and a small bundle built fresh for each test class (nothing on disk).</summary>
internal static class TestBundles
{
    public static BundleManifest Manifest(string version = "1.2.0", string? parent = "1.1.0") => new()
    {
        Name = "fmnist-cnn",
        Version = version,
        ParentVersion = parent,
        ModelFormat = "onnx",
        ModelSha256 = new string('0', 64),
        ModelBytes = 1,
        Inputs = [new TensorSpec { Name = "input", ElementType = "float32", Shape = [-1, 1, 28, 28] }],
        Outputs = [new TensorSpec { Name = "logits", ElementType = "float32", Shape = [-1, 10] }],
        Labels = ["t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"],
        Preprocess = System.Text.Json.JsonDocument.Parse("""{"scale": 0.00392156862745098, "layout": "NCHW"}""").RootElement.Clone(),
        Trainable = new TrainableHead { Nodes = ["fc2"], Initializers = ["fc2.weight", "fc2.bias"] },
        CreatedUtc = "2026-11-23T09:00:00Z",
        Producer = "tests",
    };

    public static byte[] Model(int length, int seed)
    {
        var model = new byte[length];
        new Random(seed).NextBytes(model);
        return model;
    }
}
