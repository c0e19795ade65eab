using System.CommandLine;
using System.Text.Json;
using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.IO;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Compression.Versioning;
using EdgeAgent.Exporter.Cli;

namespace EdgeAgent.Exporter.Commands;

/// <summary>exporter pack MODEL.onnx ... --key KEY -o MODEL.eab: a signed bundle.</summary>
internal static class PackCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The ONNX model to pack.", HelpName = "MODEL.onnx" };
        var name = new Option<string>("--name") { Description = "Model name (A-Z a-z 0-9 . _ -).", Required = true, HelpName = "N" };
        var version = new Option<string>("--version") { Description = "Semantic version of this model, e.g. 1.2.0.", Required = true, HelpName = "V" };
        var parent = new Option<string?>("--parent") { Description = "Version this model was derived from.", HelpName = "V" };
        var labels = new Option<string?>("--labels") { Description = "Comma-separated class names, one per output.", HelpName = "a,b,c" };
        var head = new Option<string?>("--trainable-head")
        {
            Description = "Layers the device may train: 'auto' (the last layer with weights) or the name of the head's first node. Default: none.",
            HelpName = "auto|NODE",
        };
        var preprocess = new Option<string?>("--preprocess")
        {
            Description = "Preprocessing the device applies, as a JSON object, or @FILE to read it from a file.",
            HelpName = "JSON",
        };
        var key = new Option<string>("--key") { Description = "Private key file from 'exporter keygen'.", Required = true, HelpName = "KEY" };
        var output = new Option<string>("--output", "-o") { Description = "The bundle to write.", Required = true, HelpName = "MODEL.eab" };
        var command = new Command("pack", "Pack an ONNX model with its manifest into a signed bundle (.eab).")
        {
            model, name, version, parent, labels, head, preprocess, key, output,
        };
        command.SetAction(parse => ExporterCli.Guard("pack", () =>
        {
            var modelPath = Paths.ExistingFile(parse.GetValue(model), "model");
            var outputPath = Paths.OutputFile(parse.GetValue(output), "--output");
            var keyPath = Paths.ExistingFile(parse.GetValue(key), "--key");
            var n = parse.GetValue(name)!;
            if (!ManifestRules.IsValidName(n)) throw new UsageException($"--name '{n}' must be 1-128 characters of A-Z a-z 0-9 . _ -");
            var v = parse.GetValue(version)!;
            if (!SemanticVersion.TryParse(v, out var semver, out var why)) throw new UsageException($"--version '{v}' is not a semantic version: {why}");
            var p = parse.GetValue(parent);
            if (p is not null)
            {
                if (!SemanticVersion.TryParse(p, out var parentVersion, out var whyParent)) throw new UsageException($"--parent '{p}' is not a semantic version: {whyParent}");
                if (parentVersion >= semver) throw new UsageException($"--parent {p} must be lower than --version {v}");
            }
            string[] labelList = [];
            if (parse.GetValue(labels) is { } l)
            {
                labelList = l.Split(',', StringSplitOptions.TrimEntries);
                if (labelList.Any(x => x.Length == 0)) throw new UsageException("--labels has an empty name");
                var dup = labelList.GroupBy(x => x, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
                if (dup is not null) throw new UsageException($"--labels names '{dup.Key}' twice");
            }
            JsonElement? pre = null;
            if (parse.GetValue(preprocess) is { } preText) pre = ParsePreprocess(preText);

            using var signingKey = BundleSigningKey.FromFile(keyPath);
            var bytes = File.ReadAllBytes(modelPath);
            OnnxModelSummary summary;
            try { summary = OnnxModelSummary.Read(bytes, modelPath); }
            catch (InvalidDataException e) { throw new CommandFailedException(e.Message, e); }

            if (labelList.Length > 0)
            {
                var shape = summary.Outputs[0].Shape;
                if (shape.Length > 0 && shape[^1] > 0 && shape[^1] != labelList.Length)
                    throw new UsageException($"--labels has {labelList.Length} names but output '{summary.Outputs[0].Name}' has {shape[^1]} classes");
            }
            TrainableHead? trainable = null;
            if (parse.GetValue(head) is { } h)
            {
                try { trainable = summary.FindTrainableHead(h == "auto" ? null : h); }
                catch (InvalidOperationException e) { throw new UsageException($"--trainable-head: {e.Message}"); }
            }

            var manifest = new BundleManifest
            {
                Name = n,
                Version = semver.ToString(),
                ParentVersion = p,
                ModelFormat = "onnx",
                ModelSha256 = "",
                ModelBytes = bytes.Length,
                Inputs = [.. summary.Inputs],
                Outputs = [.. summary.Outputs],
                Labels = labelList,
                Preprocess = pre,
                Trainable = trainable,
                CreatedUtc = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", System.Globalization.CultureInfo.InvariantCulture),
                Producer = $"exporter {Program.Version}",
            };
            var bundle = ModelBundle.Create(manifest, bytes, signingKey);
            AtomicFile.WriteAllBytes(outputPath, bundle);
            Console.Out.WriteLine($"{outputPath}: {n} {semver}, {bundle.Length} bytes (model {bytes.Length}), signed by key {signingKey.PublicKey.KeyIdHex[..16]}…");
            if (trainable is not null) Console.Out.WriteLine($"  trainable head: {string.Join(", ", trainable.Nodes)}");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static JsonElement ParsePreprocess(string text)
    {
        string source = "--preprocess";
        if (text.StartsWith('@'))
        {
            var path = Paths.ExistingFile(text[1..], "--preprocess file");
            text = File.ReadAllText(path);
            source = path;
        }
        try
        {
            using var doc = JsonDocument.Parse(text);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new UsageException($"{source} must be a JSON object, not {doc.RootElement.ValueKind}");
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new UsageException($"{source} is not valid JSON: {e.Message}");
        }
    }
}
