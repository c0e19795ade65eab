using System.CommandLine;
using EdgeAgent.Compression.Data;
using EdgeAgent.Compression.IO;
using EdgeAgent.Compression.Models;
using EdgeAgent.Exporter.Cli;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Exporter.Commands;

/// <summary>
/// exporter train --data LABELED -o OUT.onnx: trains a float classifier with the project's training
/// engine (the bench and demo models come from here), e.g. on Debian's Fashion-MNIST.
/// </summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "Labelled training data (IDX images with labels beside, .npz with x/y, or CSV with the label last).", Required = true, HelpName = "LABELED" };
        var output = new Option<string>("--output", "-o") { Description = "The float ONNX model to write.", Required = true, HelpName = "OUT.onnx" };
        var shape = new Option<string>("--input-shape") { Description = "Per-sample input shape.", DefaultValueFactory = _ => "1,28,28", HelpName = "C,H,W" };
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer widths of the MLP.", DefaultValueFactory = _ => "256,128", HelpName = "a,b" };
        var classes = new Option<int>("--classes") { Description = "Number of classes.", DefaultValueFactory = _ => 10 };
        var epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => 5 };
        var limit = new Option<int>("--samples") { Description = "Use at most this many training samples.", DefaultValueFactory = _ => 60000 };
        var seed = new Option<int>("--seed") { Description = "Seed for initialisation and shuffling.", DefaultValueFactory = _ => 1 };
        var command = new Command("train", "Train a float MLP classifier on labelled data with EdgeAgent's training engine.")
        {
            data, output, shape, hidden, classes, epochs, limit, seed,
        };
        command.SetAction(parse => ExporterCli.Guard("train", () =>
        {
            var outPath = Paths.OutputFile(parse.GetValue(output), "--output");
            int[] sampleShape = ParseInts(parse.GetValue(shape)!, "--input-shape");
            int[] widths = ParseInts(parse.GetValue(hidden)!, "--hidden");
            int nClasses = parse.GetValue(classes);
            if (nClasses < 2) throw new UsageException("--classes must be at least 2");
            var inputInfo = new ValueInfo("input", DataType.Float, [Dim.Symbolic("N"), .. sampleShape.Select(d => Dim.Known(d))]);
            SampleSet set;
            try { set = DatasetLoader.Load(parse.GetValue(data)!, [inputInfo], wantLabels: true, parse.GetValue(limit)); }
            catch (DataFormatException e) { throw new CommandFailedException(e.Message, e); }
            int size = sampleShape.Aggregate(1, (a, d) => a * d);
            var inputs = new float[set.Count * size];
            for (int i = 0; i < set.Count; i++) set.Samples[i][0].Span<float>().CopyTo(inputs.AsSpan(i * size));
            var labels = set.Labels!;
            if (labels.Any(l => l >= nClasses)) throw new CommandFailedException($"{set.Source}: a label is ≥ --classes {nClasses}");

            var layers = new List<Layer> { new Flatten() };
            int width = size;
            foreach (var w in widths) { layers.Add(new Dense(width, w)); layers.Add(new Relu()); width = w; }
            layers.Add(new Dense(width, nClasses));
            var network = new Network(sampleShape, layers);
            network.Initialize(parse.GetValue(seed));
            var report = Trainer.Fit(network, new TrainingSet(inputs, sampleShape, labels),
                new TrainerOptions
                {
                    Epochs = parse.GetValue(epochs),
                    BatchSize = 64,
                    Seed = parse.GetValue(seed),
                    EpochCompleted = (e, loss) => Console.Error.WriteLine($"epoch {e + 1}: loss {loss:0.0000}"),
                },
                new Adam(1e-3f));
            var model = TrainedModelExport.ToOnnxModel(network.ToOnnxGraph("classifier", "input", "logits"));
            AtomicFile.WriteAllBytes(outPath, OnnxWriter.ToBytes(model));
            Console.Out.WriteLine($"{outPath}: {network.ParameterCount} parameters, {report.Epochs} epochs on {set.Count} samples in {report.Seconds:0.0} s, final loss {report.FinalLoss:0.0000}");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static int[] ParseInts(string text, string option)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var r = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out r[i]) || r[i] <= 0)
                throw new UsageException($"{option} '{text}' must be comma-separated positive integers");
        if (r.Length == 0) throw new UsageException($"{option} is empty");
        return r;
    }
}
