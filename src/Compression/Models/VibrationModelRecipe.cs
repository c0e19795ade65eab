using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Data;
using EdgeAgent.Compression.Data.Simulated;
using EdgeAgent.Compression.Quantization;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Compression.Models;

/// <summary>Settings of <see cref="VibrationModelRecipe"/>; the defaults make the demo model.</summary>
public sealed record VibrationModelOptions
{
    public string Name { get; init; } = "vibration";
    public string Version { get; init; } = "1.0.0";
    /// <summary>Samples per window; the daemon cuts windows of this size from the sensor stream.</summary>
    public int WindowSize { get; init; } = 256;
    /// <summary>The simulated source's default rate (edgeagent's embedded defaults).</summary>
    public double SampleRateHz { get; init; } = 1000;
    public double NoiseG { get; init; } = 0.02;
    public int TrainWindowsPerClass { get; init; } = 240;
    public int TestWindowsPerClass { get; init; } = 40;
    public int CalibrationWindows { get; init; } = 64;
    public int Epochs { get; init; } = 8;
    /// <summary>Channels of the two Conv1d layers and width of the embedding that feeds the trainable head.</summary>
    public int[] ConvChannels { get; init; } = [16, 24];
    public int EmbeddingWidth { get; init; } = 24;
    public int Seed { get; init; } = 1;
    public Action<string>? Log { get; init; }
}

/// <summary>What <see cref="VibrationModelRecipe.Build"/> made: the int8 model and how well it classifies held-out windows.</summary>
public sealed record VibrationModel(
    byte[] QuantizedOnnx, BundleManifest Manifest, int Parameters, double FloatAccuracy, double Int8Accuracy, double TrainSeconds)
{
    /// <summary>The float model the int8 one was quantized from.</summary>
    public required byte[] FloatOnnx { get; init; }
    /// <summary>The held-out windows, preprocessed as the model expects them, with their labels.</summary>
    public required SampleSet Test { get; init; }

    /// <summary>Packs and signs the model into a bundle (.eab).</summary>
    public byte[] Pack(BundleSigningKey key) => ModelBundle.Create(Manifest, QuantizedOnnx, key);
}

/// <summary>
/// The demo model, made with the project's own tools: windows from the simulated vibration source
/// (<see cref="VibrationWindows"/>), a small Conv1d classifier trained by the training engine, static int8 QDQ
/// quantization calibrated on training windows, and a manifest that tells the daemon the window, the
/// preprocessing and the trainable head (the last Gemm, whose input is the backbone embedding).
/// Input layout is NCL (<c>[N, 3, window]</c>); preprocessing removes each window's mean (gravity, mounting) and
/// scales each axis by the training set's standard deviation.
/// </summary>
public static class VibrationModelRecipe
{
    public const string InputName = "window";
    public const string OutputName = "logits";

    public static VibrationModel Build(VibrationModelOptions options)
    {
        var log = options.Log ?? (_ => { });
        int w = options.WindowSize, channels = VibrationGenerator.ChannelNames.Count;
        var classes = VibrationRegimes.Names;
        var (trainRaw, trainLabels) = VibrationWindows.Generate(options.TrainWindowsPerClass, w, options.SampleRateHz, options.NoiseG, options.Seed);
        var (testRaw, testLabels) = VibrationWindows.Generate(options.TestWindowsPerClass, w, options.SampleRateHz, options.NoiseG, options.Seed + 7919);
        float[] std = AxisStd(trainRaw, w, channels);
        float[] train = ToModelInput(trainRaw, w, channels, std);
        float[] test = ToModelInput(testRaw, w, channels, std);
        log($"data: {trainLabels.Length} training and {testLabels.Length} test windows of {w} samples at {options.SampleRateHz} Hz, classes {string.Join(", ", classes)}");

        int c1 = options.ConvChannels[0], c2 = options.ConvChannels[1];
        var network = new Network([channels, w],
        [
            new Conv1d(channels, c1, kernel: 7, stride: 2), new Relu(),
            new Conv1d(c1, c2, kernel: 5, stride: 2), new Relu(),
            new GlobalAvgPool(), new Flatten(),
            new Dense(c2, options.EmbeddingWidth), new Relu(),
            new Dense(options.EmbeddingWidth, classes.Count),
        ]);
        network.Initialize(options.Seed);
        var clock = Stopwatch.StartNew();
        var report = Trainer.Fit(network, new TrainingSet(train, [channels, w], trainLabels),
            new TrainerOptions
            {
                Epochs = options.Epochs,
                BatchSize = 32,
                Seed = options.Seed,
                EpochCompleted = (e, loss) => log($"epoch {e + 1}/{options.Epochs}: loss {loss:0.0000}"),
            },
            new Adam(3e-3f));
        double seconds = clock.Elapsed.TotalSeconds;
        var floatModel = TrainedModelExport.ToOnnxModel(network.ToOnnxGraph("vibration", InputName, OutputName));
        double floatAccuracy = Accuracy(OnnxWriter.ToBytes(floatModel), test, testLabels, channels, w);
        log($"trained {network.ParameterCount} parameters in {seconds:0.0} s (final loss {report.FinalLoss:0.0000}); float accuracy {floatAccuracy:P1}");

        var calibration = new List<Tensor[]>();
        int sampleSize = channels * w;
        for (int i = 0; i < Math.Min(options.CalibrationWindows, trainLabels.Length); i++)
            calibration.Add([Tensor.FromArray<float>(train.AsSpan(i * sampleSize, sampleSize), 1, channels, w)]);
        var quantized = TrainedModelExport.ToOnnxModel(network.ToOnnxGraph("vibration", InputName, OutputName));
        QdqQuantizer.Quantize(quantized, new SampleSet([InputName], calibration, null, "simulated vibration windows"),
            new QuantizeOptions { Activations = QuantizedType.Int8 });
        quantized.ProducerName = "EdgeAgent exporter demo-model";
        byte[] bytes = OnnxWriter.ToBytes(quantized);
        double int8Accuracy = Accuracy(bytes, test, testLabels, channels, w);
        log($"int8 QDQ model: {bytes.Length} bytes; int8 accuracy {int8Accuracy:P1}");

        var summary = OnnxModelSummary.Read(bytes, "demo model");
        var manifest = new BundleManifest
        {
            Name = options.Name,
            Version = options.Version,
            ModelFormat = "onnx",
            ModelSha256 = "",
            ModelBytes = bytes.Length,
            Inputs = [.. summary.Inputs],
            Outputs = [.. summary.Outputs],
            Labels = [.. classes],
            Preprocess = Preprocess(w, channels, std, options.SampleRateHz),
            Trainable = summary.FindTrainableHead(null),
            CreatedUtc = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
            Producer = "exporter demo-model",
        };
        var testSamples = Enumerable.Range(0, testLabels.Length)
            .Select(i => new[] { Tensor.FromArray<float>(test.AsSpan(i * sampleSize, sampleSize), 1, channels, w) }).ToList();
        return new VibrationModel(bytes, manifest, network.ParameterCount, floatAccuracy, int8Accuracy, seconds)
        {
            FloatOnnx = OnnxWriter.ToBytes(floatModel),
            Test = new SampleSet([InputName], testSamples, testLabels, "simulated vibration test windows"),
        };
    }

    // Per-axis standard deviation of the windows once each window's own mean is removed (what the device does).
    private static float[] AxisStd(float[] windows, int w, int channels)
    {
        int count = windows.Length / (w * channels);
        var sum = new double[channels];
        Span<double> mean = stackalloc double[channels];
        for (int i = 0; i < count; i++)
        {
            var window = windows.AsSpan(i * w * channels, w * channels);
            WindowMean(window, w, channels, mean);
            for (int t = 0; t < w; t++)
                for (int c = 0; c < channels; c++)
                {
                    double d = window[t * channels + c] - mean[c];
                    sum[c] += d * d;
                }
        }
        return sum.Select(s => (float)Math.Max(Math.Sqrt(s / ((double)count * w)), 1e-6)).ToArray();
    }

    private static void WindowMean(ReadOnlySpan<float> window, int w, int channels, Span<double> mean)
    {
        mean.Clear();
        for (int t = 0; t < w; t++)
            for (int c = 0; c < channels; c++) mean[c] += window[t * channels + c];
        for (int c = 0; c < channels; c++) mean[c] /= w;
    }

    // Time-major raw windows → NCL model input, preprocessed as the manifest tells the daemon to.
    private static float[] ToModelInput(float[] windows, int w, int channels, float[] std)
    {
        int count = windows.Length / (w * channels);
        var result = new float[windows.Length];
        Span<double> mean = stackalloc double[channels];
        for (int i = 0; i < count; i++)
        {
            var window = windows.AsSpan(i * w * channels, w * channels);
            var input = result.AsSpan(i * w * channels, w * channels);
            WindowMean(window, w, channels, mean);
            for (int c = 0; c < channels; c++)
                for (int t = 0; t < w; t++)
                    input[c * w + t] = (float)((window[t * channels + c] - mean[c]) / std[c]);
        }
        return result;
    }

    private static double Accuracy(byte[] model, float[] inputs, int[] labels, int channels, int w)
    {
        var session = InferenceSession.FromBytes(model);
        var x = Tensor.Allocate(DataType.Float, [1, channels, w]);
        Tensor[] feed = [x];
        int sampleSize = channels * w, correct = 0;
        for (int i = 0; i < labels.Length; i++)
        {
            inputs.AsSpan(i * sampleSize, sampleSize).CopyTo(x.Span<float>());
            var scores = session.Run(feed)[0].Span<float>();
            int best = 0;
            for (int k = 1; k < scores.Length; k++) if (scores[k] > scores[best]) best = k;
            if (best == labels[i]) correct++;
        }
        return (double)correct / labels.Length;
    }

    private static JsonElement Preprocess(int window, int channels, float[] std, double rateHz)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("layout", "NCL");
            json.WriteNumber("window", window);
            json.WriteNumber("channels", channels);
            json.WriteStartArray("mean");
            for (int c = 0; c < channels; c++) json.WriteNumberValue(0);
            json.WriteEndArray();
            json.WriteStartArray("std");
            foreach (var s in std) json.WriteNumberValue(s);
            json.WriteEndArray();
            json.WriteBoolean("removeWindowMean", true);
            json.WriteNumber("sampleRateHz", rateHz);
            json.WriteEndObject();
        }
        using var doc = JsonDocument.Parse(buffer.WrittenMemory);
        return doc.RootElement.Clone();
    }
}
