using System.Text.Json;
using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Data.Simulated;
using EdgeAgent.Compression.Models;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Inference;
using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using EdgeAgent.Tests.Support;
using Xunit;
using DaemonLoadException = EdgeAgent.Daemon.Inference.ModelLoadException;

namespace EdgeAgent.Tests.Inference;

/// <summary>
/// A small real bundle, made the way 'exporter demo-model' makes the demo model (simulated windows, training
/// engine, int8 QDQ, trainable head, signed), built once for the tests of this class.
/// </summary>
public sealed class VibrationBundleFixture : IDisposable
{
    public const int Window = 64;

    public VibrationBundleFixture()
    {
        Model = VibrationModelRecipe.Build(new VibrationModelOptions
        {
            WindowSize = Window,
            TrainWindowsPerClass = 80,
            TestWindowsPerClass = 8,
            CalibrationWindows = 16,
            Epochs = 8,
            ConvChannels = [8, 12],
            EmbeddingWidth = 10,
        });
        Path = Directory.File("vibration-1.0.0.eab");
        File.WriteAllBytes(Path, Model.Pack(Key));
    }

    public TempDirectory Directory { get; } = new();
    public BundleSigningKey Key { get; } = BundleSigningKey.Generate();
    public VibrationModel Model { get; }
    public string Path { get; }

    /// <summary>Writes a bundle of a changed model or manifest, signed with the same key.</summary>
    public string Repack(string fileName, byte[]? onnx = null, Func<BundleManifest, BundleManifest>? manifest = null)
    {
        var m = manifest is null ? Model.Manifest : manifest(Model.Manifest);
        string path = Directory.File(fileName);
        File.WriteAllBytes(path, ModelBundle.Create(m, onnx ?? Model.QuantizedOnnx, Key));
        return path;
    }

    public void Dispose()
    {
        Key.Dispose();
        Directory.Dispose();
    }
}

public sealed class BundleEngineTests(VibrationBundleFixture bundle) : IClassFixture<VibrationBundleFixture>
{
    private static IInferenceEngine Load(string path, bool fallback = false) =>
        InferenceEngines.CreateFactory(new RuntimeOptions { Fallback = fallback }).Load(path, "vibration", "1.0.0");

    private static float[] PreprocessedWindow(ModelDescriptor model, int seed)
    {
        var (raw, _) = VibrationWindows.Generate(1, model.WindowSize, 1000, 0.02, seed);
        var input = new float[model.InputLength];
        model.Preprocessing.Apply(raw.AsSpan(0, model.InputLength), input);
        return input;
    }

    [Fact]
    public void DescribesTheModelFromTheManifestAndGraph()
    {
        using var engine = Load(bundle.Path);
        var d = engine.Model;
        Assert.Equal(VibrationBundleFixture.Window, d.WindowSize);
        Assert.Equal(3, d.Channels);
        Assert.Equal(VibrationRegimes.Names, d.ClassNames);
        Assert.Equal(10, d.EmbeddingLength);
        Assert.False(d.OutputsProbabilities);
        Assert.True(d.Preprocessing.ChannelMajor);
        Assert.True(d.Preprocessing.RemoveWindowMean);
    }

    [Fact]
    public void ScoresAndEmbeddingMatchTheRuntimeRunningTheGraphDirectly()
    {
        using var engine = Load(bundle.Path);
        var d = engine.Model;
        var input = PreprocessedWindow(d, 5);
        var scores = new float[d.ClassCount];
        var embedding = new float[d.EmbeddingLength];
        engine.Run(input, scores, embedding);

        var x = Tensor.FromArray<float>(input, 1, d.Channels, d.WindowSize);
        var direct = InferenceSession.FromBytes(bundle.Model.QuantizedOnnx).Run([x])[0].ToArray<float>();
        Assert.Equal(direct, scores);

        // The embedding, by another route: a copy of the graph whose only output is the head's input.
        var model = OnnxReader.Load(bundle.Model.QuantizedOnnx);
        var head = model.Graph.Nodes.Single(n => n.OpType == "Gemm" && bundle.Model.Manifest.Trainable!.Nodes.Contains(n.Name));
        var headInput = head.Inputs[0];
        model.Graph.Outputs.Clear();
        model.Graph.Outputs.Add(new ValueInfo(headInput, DataType.Float, null));
        var truncated = InferenceSession.FromModel(model).Run([x])[0].ToArray<float>();
        Assert.Equal(truncated, embedding);
        Assert.Contains(embedding, v => v != 0);
    }

    [Fact]
    public void RunAllocatesNothingOnceLoaded()
    {
        using var engine = Load(bundle.Path);
        var d = engine.Model;
        var input = PreprocessedWindow(d, 9);
        var scores = new float[d.ClassCount];
        var embedding = new float[d.EmbeddingLength];
        engine.Run(input, scores, embedding);
        engine.Run(input, scores, embedding);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++) engine.Run(input, scores, embedding);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void WrongBufferSizesAreRefusedNamingTheBuffer()
    {
        using var engine = Load(bundle.Path);
        var d = engine.Model;
        var e = Assert.Throws<ArgumentException>(() => engine.Run(new float[d.InputLength], new float[d.ClassCount], new float[3]));
        Assert.Contains("embedding", e.Message);
    }

    [Fact]
    public void UnsupportedOperatorIsRefusedNamingItUnlessFallbackIsOn()
    {
        // Shrink with lambd = 0 passes values through; our runtime does not implement it, ONNX Runtime does.
        var model = OnnxReader.Load(bundle.Model.QuantizedOnnx);
        var input = model.Graph.Inputs[0].Name;
        foreach (var n in model.Graph.Nodes)
            for (int i = 0; i < n.Inputs.Count; i++)
                if (n.Inputs[i] == input) n.Inputs[i] = "shrunk";
        model.Graph.Nodes.Insert(0, new Node("Shrink", [input], ["shrunk"], "passthrough").With(NodeAttribute.Of("lambd", 0f)));
        var path = bundle.Repack("shrink.eab", OnnxWriter.ToBytes(model));

        var refused = Assert.Throws<DaemonLoadException>(() => Load(path));
        Assert.Contains("passthrough (Shrink)", refused.Message);
        Assert.Contains("runtime:fallback", refused.Message);

        using var fallback = Load(path, fallback: true);
        using var ours = Load(bundle.Path);
        var d = ours.Model;
        Assert.Equal(d.EmbeddingLength, fallback.Model.EmbeddingLength);
        var window = PreprocessedWindow(d, 11);
        float[] s1 = new float[d.ClassCount], s2 = new float[d.ClassCount], e1 = new float[d.EmbeddingLength], e2 = new float[d.EmbeddingLength];
        ours.Run(window, s1, e1);
        fallback.Run(window, s2, e2);
        // Two implementations of the same int8 graph: equal up to a rounding step of the int8 activations.
        for (int k = 0; k < s1.Length; k++) Assert.Equal(s1[k], s2[k], 0.25);
        Assert.Equal(Array.IndexOf(s1, s1.Max()), Array.IndexOf(s2, s2.Max()));
        for (int k = 0; k < e1.Length; k++) Assert.Equal(e1[k], e2[k], 0.25);
    }

    [Fact]
    public void InconsistentManifestIsRefusedNamingTheField()
    {
        var path = bundle.Repack("window.eab", manifest: m => m with { Preprocess = Json("""{"layout":"NCL","window":100,"channels":3}""") });
        var e = Assert.Throws<DaemonLoadException>(() => Load(path));
        Assert.Contains("manifest.preprocess", e.Message);
        Assert.Contains("window 100", e.Message);

        path = bundle.Repack("unknown.eab", manifest: m => m with { Preprocess = Json("""{"layout":"NCL","gain":2}""") });
        e = Assert.Throws<DaemonLoadException>(() => Load(path));
        Assert.Contains("manifest.preprocess.gain", e.Message);

        path = bundle.Repack("labels.eab", manifest: m => m with { Labels = ["a", "b"] });
        e = Assert.Throws<DaemonLoadException>(() => Load(path));
        Assert.Contains("manifest.labels", e.Message);

        path = bundle.Repack("head.eab", manifest: m => m with { Trainable = new TrainableHead { Nodes = ["nope"], Initializers = [] } });
        e = Assert.Throws<DaemonLoadException>(() => Load(path));
        Assert.Contains("'nope'", e.Message);
    }

    [Fact]
    public void CorruptBundleIsAModelLoadException()
    {
        var bytes = File.ReadAllBytes(bundle.Path);
        bytes[bytes.Length / 2] ^= 0x40;
        var path = bundle.Directory.File("corrupt.eab");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DaemonLoadException>(() => Load(path));
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void TheDemoRecipeModelClassifiesSimulatedWindowsThroughTheEngine()
    {
        using var engine = Load(bundle.Path);
        var d = engine.Model;
        var (raw, labels) = VibrationWindows.Generate(6, d.WindowSize, 1000, 0.02, 4242);
        var input = new float[d.InputLength];
        var scores = new float[d.ClassCount];
        var embedding = new float[d.EmbeddingLength];
        int correct = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            d.Preprocessing.Apply(raw.AsSpan(i * d.InputLength, d.InputLength), input);
            engine.Run(input, scores, embedding);
            if (Array.IndexOf(scores, scores.Max()) == labels[i]) correct++;
        }
        // Far above chance (20%) for even this briefly trained model; the recipe's own held-out figure agrees.
        Assert.True(correct >= labels.Length * 0.6, $"{correct}/{labels.Length} correct (recipe reported {bundle.Model.Int8Accuracy:P0})");
    }

    private static JsonElement Json(string text)
    {
        using var doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }
}
