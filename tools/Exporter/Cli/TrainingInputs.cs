using System.CommandLine;
using EdgeAgent.Compression.Data;
using EdgeAgent.Compression.Training;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Exporter.Cli;

/// <summary>The options and loading steps finetune and distill share.</summary>
internal sealed class TrainingInputs
{
    public Option<string> Data { get; } = new("--data") { Description = "Labelled training data (IDX images with labels beside, .npz with x/y, or CSV with the label last).", Required = true, HelpName = "LABELED" };
    public Option<string?> TestData { get; } = new("--test-data") { Description = "Labelled held-out data: accuracy is printed before and after training.", HelpName = "LABELED" };
    public Option<string> Output { get; } = new("--output", "-o") { Description = "The trained float ONNX model to write.", Required = true, HelpName = "OUT.onnx" };
    public Option<int> Epochs { get; }
    public Option<float> LearningRate { get; }
    public Option<int> BatchSize { get; } = new("--batch-size") { Description = "Samples per optimizer step.", DefaultValueFactory = _ => 64, HelpName = "N" };
    public Option<int> Samples { get; } = new("--samples") { Description = "Use at most this many training (and test) samples.", DefaultValueFactory = _ => int.MaxValue, HelpName = "N" };
    public Option<int> Seed { get; } = new("--seed") { Description = "Seed for shuffling.", DefaultValueFactory = _ => 1 };

    public TrainingInputs(int defaultEpochs, float defaultLearningRate)
    {
        Epochs = new Option<int>("--epochs") { Description = "Training epochs.", DefaultValueFactory = _ => defaultEpochs, HelpName = "N" };
        LearningRate = new Option<float>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => defaultLearningRate, HelpName = "X" };
    }

    public void AddTo(Command command)
    {
        foreach (var o in new Option[] { Data, TestData, Output, Epochs, LearningRate, BatchSize, Samples, Seed }) command.Options.Add(o);
    }

    /// <summary>Checks the values that need no file: a wrong one is a usage error.</summary>
    public CompressionTrainingOptions Options(ParseResult parse, string command)
    {
        int epochs = parse.GetValue(Epochs), batch = parse.GetValue(BatchSize);
        float lr = parse.GetValue(LearningRate);
        if (epochs <= 0) throw new UsageException($"--epochs {epochs} must be positive");
        if (batch <= 0) throw new UsageException($"--batch-size {batch} must be positive");
        if (!(lr > 0 && float.IsFinite(lr))) throw new UsageException($"--lr {lr} must be a positive number");
        if (parse.GetValue(Samples) <= 0) throw new UsageException("--samples must be positive");
        foreach (var option in new Option<string?>[] { Data!, TestData })
            if (parse.GetValue(option) is { } path && !File.Exists(path) && !Directory.Exists(path))
                throw new UsageException($"{option.Name} '{path}' does not exist");
        return new CompressionTrainingOptions
        {
            Epochs = epochs,
            BatchSize = batch,
            LearningRate = lr,
            Seed = parse.GetValue(Seed),
            Progress = (done, total) => ProgressLine.Show(command, done, total),
            EpochCompleted = (e, loss) =>
            {
                ProgressLine.Done();
                Console.Error.WriteLine($"epoch {e + 1}/{epochs}: loss {loss:0.0000}");
            },
        };
    }

    /// <summary>Imports the model for training; one the engine cannot import is a failure naming the node and operator.</summary>
    public static TrainableModel Import(OnnxModel model, string path)
    {
        try { return TrainableModel.Import(model, path); }
        catch (UntrainableModelException e) { throw new CommandFailedException(e.Message, e); }
    }

    /// <summary>Loads labelled data shaped for <paramref name="model"/>; a mismatch is a failure naming the file and shapes.</summary>
    public static TrainingSet Load(string path, string option, OnnxModel model, Network network, int limit)
    {
        try
        {
            var set = DatasetLoader.Load(path, model.Graph.RuntimeInputs.ToList(), wantLabels: true, limit);
            return LabeledData.ToTrainingSet(set, network);
        }
        catch (DataFormatException e) { throw new CommandFailedException($"{option}: {e.Message}", e); }
    }
}
