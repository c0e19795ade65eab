using System.CommandLine;
using EdgeAgent.Compression.IO;
using EdgeAgent.Compression.Models;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Compression.Versioning;
using EdgeAgent.Exporter.Cli;

namespace EdgeAgent.Exporter.Commands;

/// <summary>
/// exporter demo-model --out X.eab --key K --public-key K.pub: the demo model <c>./build.sh demo</c> serves.
/// Trains a Conv1d classifier on the simulated vibration source's windows, quantizes it to int8 QDQ, marks
/// its last layer as the trainable head and packs it signed; the key is created when the file does not exist.
/// </summary>
internal static class DemoModelCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--out", "--output", "-o") { Description = "The bundle to write.", Required = true, HelpName = "X.eab" };
        var key = new Option<string>("--key") { Description = "Private signing key; generated (mode 0600) when the file does not exist.", Required = true, HelpName = "KEY" };
        var publicKey = new Option<string?>("--public-key") { Description = "Where to write the public key the device must trust.", HelpName = "KEY.pub" };
        var name = new Option<string>("--name") { Description = "Model name.", DefaultValueFactory = _ => "vibration", HelpName = "N" };
        var version = new Option<string>("--version") { Description = "Model version.", DefaultValueFactory = _ => "1.0.0", HelpName = "V" };
        var window = new Option<int>("--window") { Description = "Samples per window.", DefaultValueFactory = _ => 256 };
        var rate = new Option<double>("--rate") { Description = "Sample rate of the simulated source, Hz.", DefaultValueFactory = _ => 1000 };
        var perClass = new Option<int>("--windows-per-class") { Description = "Training windows per class.", DefaultValueFactory = _ => 240 };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => 8 };
        var seed = new Option<int>("--seed") { Description = "Seed of data, initialisation and shuffling.", DefaultValueFactory = _ => 1 };
        var convChannels = new Option<string>("--conv-channels") { Description = "Output channels of the two Conv1d layers (the model's size; the benchmark's ~1 MB model uses 32,256).", DefaultValueFactory = _ => "16,24", HelpName = "C1,C2" };
        var embeddingWidth = new Option<int>("--embedding-width") { Description = "Width of the dense embedding the trainable head reads.", DefaultValueFactory = _ => 24 };
        var command = new Command("demo-model", "Train, quantize, pack and sign the demo vibration model (simulated data, the project's own training engine).")
        {
            output, key, publicKey, name, version, window, rate, perClass, epochs, seed, convChannels, embeddingWidth,
        };
        command.SetAction(parse => ExporterCli.Guard("demo-model", () =>
        {
            var outPath = Paths.OutputFile(parse.GetValue(output), "--out");
            var keyPath = Paths.OutputFile(parse.GetValue(key), "--key");
            var publicPath = parse.GetValue(publicKey) is { } pub ? Paths.OutputFile(pub, "--public-key") : null;
            var v = parse.GetValue(version)!;
            if (!SemanticVersion.TryParse(v, out var semver, out var why)) throw new UsageException($"--version '{v}' is not a semantic version: {why}");
            if (parse.GetValue(window) is < 16 or > 65536) throw new UsageException("--window must be 16..65536 samples");
            if (parse.GetValue(rate) is not (> 0 and <= 20_000)) throw new UsageException("--rate must be in (0, 20000] Hz");
            if (parse.GetValue(perClass) < 8) throw new UsageException("--windows-per-class must be at least 8");
            if (parse.GetValue(epochs) < 1) throw new UsageException("--epochs must be at least 1");
            int[] channels = ParseChannels(parse.GetValue(convChannels)!);
            if (parse.GetValue(embeddingWidth) is < 2 or > 65536) throw new UsageException("--embedding-width must be 2..65536");

            BundleSigningKey signingKey;
            if (File.Exists(keyPath))
            {
                signingKey = BundleSigningKey.FromFile(keyPath);
            }
            else
            {
                signingKey = BundleSigningKey.Generate();
                AtomicFile.WriteAllText(keyPath, signingKey.ExportPrivatePem(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
                Console.Error.WriteLine($"demo-model: new signing key {keyPath}");
            }
            using (signingKey)
            {
                var model = VibrationModelRecipe.Build(new VibrationModelOptions
                {
                    Name = parse.GetValue(name)!,
                    Version = semver.ToString(),
                    WindowSize = parse.GetValue(window),
                    SampleRateHz = parse.GetValue(rate),
                    TrainWindowsPerClass = parse.GetValue(perClass),
                    Epochs = parse.GetValue(epochs),
                    Seed = parse.GetValue(seed),
                    ConvChannels = channels,
                    EmbeddingWidth = parse.GetValue(embeddingWidth),
                    Log = line => Console.Error.WriteLine($"demo-model: {line}"),
                });
                var bundle = model.Pack(signingKey);
                AtomicFile.WriteAllBytes(outPath, bundle);
                if (publicPath is not null)
                    AtomicFile.WriteAllText(publicPath, signingKey.PublicKey.ExportPem(),
                        UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
                Console.Out.WriteLine($"{outPath}: {model.Manifest.Name} {model.Manifest.Version}, {bundle.Length} bytes, {model.Parameters} parameters, " +
                    $"held-out accuracy {model.FloatAccuracy:P1} float / {model.Int8Accuracy:P1} int8, trainable head {string.Join(", ", model.Manifest.Trainable!.Nodes)}, " +
                    $"signed by key {signingKey.PublicKey.KeyIdHex[..16]}…");
            }
            return ExitCodes.Success;
        }));
        return command;
    }

    private static int[] ParseChannels(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || !int.TryParse(parts[0], System.Globalization.CultureInfo.InvariantCulture, out int c1) ||
            !int.TryParse(parts[1], System.Globalization.CultureInfo.InvariantCulture, out int c2))
            throw new UsageException($"--conv-channels '{text}' must be two whole numbers, e.g. 16,24");
        if (c1 is < 1 or > 4096 || c2 is < 1 or > 4096) throw new UsageException($"--conv-channels '{text}': each must be 1..4096");
        return [c1, c2];
    }
}
