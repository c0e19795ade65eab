using System.CommandLine;
using EdgeAgent.Compression.IO;
using EdgeAgent.Compression.Training;
using EdgeAgent.Exporter.Cli;
using EdgeAgent.Runtime.Onnx;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Exporter.Commands;

/// <summary>exporter finetune IN.onnx --data LABELED -o OUT.onnx: recovers accuracy after prune or lowrank.</summary>
internal static class FinetuneCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("model") { Description = "The float ONNX model to finetune (typically pruned or factorised).", HelpName = "IN.onnx" };
        var shared = new TrainingInputs(defaultEpochs: 3, defaultLearningRate: 5e-4f);
        var command = new Command("finetune",
            "Retrain a pruned or factorised model on labelled data with EdgeAgent's training engine to recover accuracy; pruned (zero) weights stay zero.")
        {
            input,
        };
        shared.AddTo(command);
        command.SetAction(parse => ExporterCli.Guard("finetune", () =>
        {
            var inPath = Paths.ExistingFile(parse.GetValue(input), "model");
            var outPath = Paths.OutputFile(parse.GetValue(shared.Output), "--output");
            var options = shared.Options(parse, "finetune");
            int limit = parse.GetValue(shared.Samples);
            var onnx = ModelFiles.Load(inPath);
            var model = TrainingInputs.Import(onnx, inPath);
            var data = TrainingInputs.Load(parse.GetValue(shared.Data)!, "--data", onnx, model.Network, limit);
            var test = parse.GetValue(shared.TestData) is { } t ? TrainingInputs.Load(t, "--test-data", onnx, model.Network, limit) : null;
            double? before = test is null ? null : LabeledData.Accuracy(model.Network, test);

            FinetuneResult result;
            try { result = Finetuner.Run(model, data, options); }
            finally { ProgressLine.Done(); }

            var bytes = OnnxWriter.ToBytes(model.Export());
            AtomicFile.WriteAllBytes(outPath, bytes);
            Console.Out.WriteLine($"{outPath}: finetuned {model.Network.ParameterCount:N0} parameters for {result.Training.Epochs} epochs on {data.Count} samples " +
                $"in {result.Training.Seconds:0.0} s, final loss {result.Training.FinalLoss:0.0000}; {result.MaskedWeights:N0} pruned weights held at zero");
            if (test is not null)
                Console.Out.WriteLine($"test accuracy: {before * 100:0.00} % before, {LabeledData.Accuracy(model.Network, test) * 100:0.00} % after ({test.Count} samples)");
            return ExitCodes.Success;
        }));
        return command;
    }
}
