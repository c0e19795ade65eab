using System.Globalization;
using EdgeAgent.Compression.Evaluation;
using EdgeAgent.Compression.Models;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using EdgeAgent.Runtime.Training;
using Xunit;

namespace EdgeAgent.Exporter.Tests;

/// <summary>exporter finetune and distill, end to end on a small synthetic classification problem.</summary>
[Collection("console")]
public sealed class TrainingCommandTests : IDisposable
{
    private const int Features = 8, Classes = 3;
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // Three Gaussian blobs in 8-D; CSV rows of features then the label.
    private static (float[] X, int[] Y) Blobs(int count, int seed)
    {
        var rng = new Random(seed);
        var centres = new float[Classes * Features];
        var centreRng = new Random(99);
        for (int i = 0; i < centres.Length; i++) centres[i] = (float)(centreRng.NextDouble() * 4 - 2);
        var x = new float[count * Features];
        var y = new int[count];
        for (int s = 0; s < count; s++)
        {
            y[s] = s % Classes;
            for (int f = 0; f < Features; f++)
                x[s * Features + f] = centres[y[s] * Features + f] + (float)(rng.NextDouble() * 2 - 1) * 1.2f;
        }
        return (x, y);
    }

    private string WriteCsv(string name, int count, int seed)
    {
        var (x, y) = Blobs(count, seed);
        File.WriteAllLines(_dir[name], Enumerable.Range(0, count).Select(i =>
            string.Join(',', x.AsSpan(i * Features, Features).ToArray().Select(v => v.ToString("R", CultureInfo.InvariantCulture))) + "," + y[i]));
        return _dir[name];
    }

    private static Network Mlp(int hidden, int seed)
    {
        var net = new Network([Features], [new Dense(Features, hidden), new Relu(), new Dense(hidden, Classes)]);
        net.Initialize(seed);
        return net;
    }

    private string Save(Network net, string name, bool softmax = false)
    {
        var model = TrainedModelExport.ToOnnxModel(net.ToOnnxGraph("mlp", "x", "y", appendSoftmax: softmax));
        File.WriteAllBytes(_dir[name], OnnxWriter.ToBytes(model));
        return _dir[name];
    }

    private static double Accuracy(string modelPath, (float[] X, int[] Y) data)
    {
        using var runner = new OursRunner(OnnxReader.Load(modelPath));
        int correct = 0;
        for (int i = 0; i < data.Y.Length; i++)
        {
            var y = runner.Run([Tensor.FromArray<float>(data.X.AsSpan(i * Features, Features), 1, Features)])[0];
            if (Array.IndexOf(y, y.Max()) == data.Y[i]) correct++;
        }
        return correct / (double)data.Y.Length;
    }

    private static int[] Zeros(string modelPath, string initializer)
    {
        var w = OnnxReader.Load(modelPath).Graph.Initializers[initializer].ToArray<float>();
        return Enumerable.Range(0, w.Length).Where(i => w[i] == 0f).ToArray();
    }

    [Fact]
    public void FinetuneRecoversAccuracyAndKeepsPrunedWeightsAtZero()
    {
        var train = WriteCsv("train.csv", 600, 1);
        var test = Blobs(300, 2);
        var net = Mlp(32, 3);
        var (x, y) = Blobs(600, 1);
        Trainer.Fit(net, new TrainingSet(x, [Features], y), new TrainerOptions { Epochs = 15 }, new Adam(1e-2f));
        var trained = Save(net, "trained.onnx");
        var (code, _, err) = CliRunner.Run("prune", trained, "-o", _dir["pruned.onnx"], "--sparsity", "0.9");
        Assert.True(code == 0, err);
        string w1 = OnnxReader.Load(_dir["pruned.onnx"]).Graph.Nodes[0].Inputs[1];
        var zerosBefore = Zeros(_dir["pruned.onnx"], w1);
        Assert.True(zerosBefore.Length >= 0.9 * Features * 32 - 1, $"prune left {zerosBefore.Length} zeros");
        double prunedAccuracy = Accuracy(_dir["pruned.onnx"], test);

        (code, var output, err) = CliRunner.Run("finetune", _dir["pruned.onnx"], "--data", train, "--test-data", WriteCsv("test.csv", 300, 2),
            "--epochs", "10", "--lr", "0.01", "-o", _dir["finetuned.onnx"]);
        Assert.True(code == 0, err);
        Assert.Contains("pruned weights held at zero", output);
        Assert.Matches(@"test accuracy: \d+\.\d\d % before, \d+\.\d\d % after", output);
        var zerosAfter = Zeros(_dir["finetuned.onnx"], w1);
        Assert.True(zerosBefore.All(i => zerosAfter.Contains(i)), "finetuning grew pruned weights back");
        Assert.True(zerosAfter.Length < Features * 32, "finetuning zeroed every weight");
        double finetunedAccuracy = Accuracy(_dir["finetuned.onnx"], test);
        Assert.True(finetunedAccuracy > prunedAccuracy || finetunedAccuracy > 0.9, $"pruned {prunedAccuracy:P1}, finetuned {finetunedAccuracy:P1}");
        Assert.True(finetunedAccuracy > 0.8, $"finetuned accuracy {finetunedAccuracy:P1}");
        var model = OnnxReader.Load(_dir["finetuned.onnx"]);
        Assert.Equal("x", model.Graph.Inputs[0].Name);
        Assert.Equal("y", model.Graph.Outputs[0].Name);
    }

    [Fact]
    public void DistilledStudentLearnsTheTeachersAnswers()
    {
        var train = WriteCsv("train.csv", 600, 1);
        var test = Blobs(300, 2);
        var teacher = Mlp(64, 3);
        var (x, y) = Blobs(600, 1);
        Trainer.Fit(teacher, new TrainingSet(x, [Features], y), new TrainerOptions { Epochs = 20 }, new Adam(1e-2f));
        // A teacher ending in Softmax: its probabilities must be turned back into logits.
        var teacherPath = Save(teacher, "teacher.onnx", softmax: true);
        var studentPath = Save(Mlp(8, 5), "student.onnx");
        double untrained = Accuracy(studentPath, test);

        var (code, output, err) = CliRunner.Run("distill", "--teacher", teacherPath, "--student", studentPath, "--data", train,
            "--temperature", "3", "--alpha", "0.8", "--epochs", "20", "--lr", "0.01", "-o", _dir["distilled.onnx"]);
        Assert.True(code == 0, err);
        Assert.Contains("distilled (T = 3, α = 0.8)", output);
        double teacherAccuracy = Accuracy(teacherPath, test), studentAccuracy = Accuracy(_dir["distilled.onnx"], test);
        Assert.True(studentAccuracy >= 0.9 * teacherAccuracy && studentAccuracy > untrained + 0.2,
            $"teacher {teacherAccuracy:P1}, student {studentAccuracy:P1} (untrained {untrained:P1})");
        Assert.Equal(8 * Features + 8 + 8 * Classes + Classes,
            OnnxReader.Load(_dir["distilled.onnx"]).Graph.Initializers.Values.Sum(t => t.ElementCount));
    }

    [Fact]
    public void DataOfTheWrongShapeFailsNamingTheFileAndNoOutputIsLeft()
    {
        var student = Save(Mlp(8, 5), "student.onnx");
        File.WriteAllLines(_dir["bad.csv"], ["1,2,3,0", "4,5,6,1"]);
        var (code, _, err) = CliRunner.Run("finetune", student, "--data", _dir["bad.csv"], "-o", _dir["out.onnx"]);
        Assert.Equal(1, code);
        Assert.Contains("bad.csv", err);
        Assert.Contains("columns", err);
        Assert.False(File.Exists(_dir["out.onnx"]));
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp"));
    }

    [Fact]
    public void AModelTheTrainingEngineCannotImportNamesTheOperator()
    {
        var g = new Graph { Name = "tanh" };
        g.Inputs.Add(new ValueInfo("x", DataType.Float, [Dim.Symbolic("N"), Dim.Known(Features)]));
        g.Outputs.Add(new ValueInfo("y", DataType.Float, [Dim.Symbolic("N"), Dim.Known(Classes)]));
        g.Initializers["w"] = Tensor.FromArray<float>(new float[Features * Classes], Classes, Features);
        g.Nodes.Add(new Node("Gemm", ["x", "w"], ["h"], "fc").With(NodeAttribute.Of("transB", 1L)));
        g.Nodes.Add(new Node("Tanh", ["h"], ["y"], "squash"));
        File.WriteAllBytes(_dir["tanh.onnx"], OnnxWriter.ToBytes(OnnxModel.Create(g, 17)));
        var train = WriteCsv("train.csv", 30, 1);
        var (code, _, err) = CliRunner.Run("finetune", _dir["tanh.onnx"], "--data", train, "-o", _dir["out.onnx"]);
        Assert.Equal(1, code);
        Assert.Contains("tanh.onnx", err);
        Assert.Contains("'squash' (Tanh)", err);
        Assert.False(File.Exists(_dir["out.onnx"]));

        // As a teacher it only needs to run, so the student is what must be importable.
        var student = Save(Mlp(8, 5), "student.onnx");
        (code, _, err) = CliRunner.Run("distill", "--teacher", student, "--student", _dir["tanh.onnx"], "--data", train, "-o", _dir["out.onnx"]);
        Assert.Equal(1, code);
        Assert.Contains("(Tanh)", err);
    }

    [Fact]
    public void TeacherAndStudentMustReadTheSameInput()
    {
        var other = new Network([Features + 1], [new Dense(Features + 1, Classes)]);
        other.Initialize(1);
        var teacher = TrainedModelExport.ToOnnxModel(other.ToOnnxGraph("wide", "x", "y"));
        File.WriteAllBytes(_dir["teacher.onnx"], OnnxWriter.ToBytes(teacher));
        var (code, _, err) = CliRunner.Run("distill", "--teacher", _dir["teacher.onnx"], "--student", Save(Mlp(8, 5), "student.onnx"),
            "--data", WriteCsv("train.csv", 30, 1), "-o", _dir["out.onnx"]);
        Assert.Equal(1, code);
        Assert.Contains("same input", err);
        Assert.False(File.Exists(_dir["out.onnx"]));
    }

    [Theory]
    [InlineData("--alpha", "1.5")]
    [InlineData("--temperature", "0")]
    [InlineData("--epochs", "0")]
    [InlineData("--lr", "-1")]
    [InlineData("--lr", "abc")]
    public void BadDistillOptionValuesAreUsageErrors(string option, string value)
    {
        var student = Save(Mlp(8, 5), "student.onnx");
        var (code, _, _) = CliRunner.Run("distill", "--teacher", student, "--student", student, "--data", WriteCsv("train.csv", 30, 1),
            option, value, "-o", _dir["out.onnx"]);
        Assert.Equal(2, code);
        Assert.False(File.Exists(_dir["out.onnx"]));
    }

    [Fact]
    public void MissingRequiredOptionsAreUsageErrors()
    {
        Assert.Equal(2, CliRunner.Run("distill", "--student", "s.onnx", "--data", "d.csv", "-o", _dir["o.onnx"]).Code);
        Assert.Equal(2, CliRunner.Run("finetune", "--data", "d.csv", "-o", _dir["o.onnx"]).Code);
        var (code, _, err) = CliRunner.Run("finetune", _dir["nope.onnx"], "--data", "d.csv", "-o", _dir["o.onnx"]);
        Assert.Equal(2, code);
        Assert.Contains("nope.onnx", err);
    }

    [Theory]
    [InlineData("distill", "--temperature")]
    [InlineData("finetune", "--test-data")]
    public void TrainingCommandsHaveHelp(string command, string option)
    {
        var (code, output, _) = CliRunner.Run(command, "--help");
        Assert.Equal(0, code);
        Assert.Matches($@"Usage:\s+\S+ {command} ", output);
        Assert.Contains(option, output);
    }
}
