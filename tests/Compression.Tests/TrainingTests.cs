using EdgeAgent.Compression.Evaluation;
using EdgeAgent.Compression.Training;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Training;
using Xunit;

namespace EdgeAgent.Compression.Tests;

public sealed class TrainingTests
{
    private static TrainingSet Blobs(int count, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count * 4];
        var y = new int[count];
        for (int s = 0; s < count; s++)
        {
            y[s] = s % 2;
            for (int f = 0; f < 4; f++) x[s * 4 + f] = (y[s] == 0 ? -1f : 1f) * (f + 1) * 0.5f + (float)(rng.NextDouble() - 0.5);
        }
        return new TrainingSet(x, [4], y);
    }

    [Fact]
    public void PruningMaskHoldsOnlyPrunedTensorsAtZero()
    {
        var net = new Network([4], [new Dense(4, 10), new Relu(), new Dense(10, 2)]);
        net.Initialize(1);
        var first = (Dense)net.Layers[0];
        for (int i = 0; i < 20; i++) first.Weight.Value[i * 2] = 0f;
        ((Dense)net.Layers[2]).Weight.Value[0] = 0f; // one stray zero of 20 weights: below the 10 % threshold
        var mask = PruningMask.Capture(net, minimumFraction: 0.1);
        Assert.Equal(1, mask.MaskedTensors);
        Assert.Equal(20, mask.MaskedCount);
        Array.Fill(first.Weight.Value, 3f);
        mask.Apply();
        Assert.Equal(20, first.Weight.Value.Count(v => v == 0f));
        Assert.Equal(0f, first.Weight.Value[38]);
        Assert.Equal(3f, first.Weight.Value[39]);
    }

    [Fact]
    public void PureDistillationMakesTheStudentAgreeWithTheTeacher()
    {
        var data = Blobs(400, 2);
        var teacher = new Network([4], [new Dense(4, 16), new Relu(), new Dense(16, 2)]);
        teacher.Initialize(3);
        Trainer.Fit(teacher, data, new TrainerOptions { Epochs = 10 }, new Adam(1e-2f));
        // Wrong labels everywhere: with α = 1 the student must follow the teacher and ignore them.
        var flipped = new TrainingSet(data.Inputs, [4], data.Labels.Select(l => 1 - l).ToArray());
        var studentNet = new Network([4], [new Dense(4, 2)]);
        studentNet.Initialize(4);
        var student = TrainableModel.Import(OnnxModelBridge.ToOnnxModel(studentNet.ToOnnxGraph("s", "x", "y")), "student");
        using var runner = new OursRunner(OnnxModelBridge.ToOnnxModel(teacher.ToOnnxGraph("t", "x", "y")));
        var result = Distiller.Run(runner, student, flipped, new DistillOptions
        {
            Alpha = 1f,
            Temperature = 2f,
            Training = new CompressionTrainingOptions { Epochs = 15, LearningRate = 1e-2f },
        });
        Assert.True(result.TeacherAccuracy < 0.1, $"teacher accuracy on flipped labels {result.TeacherAccuracy:P1}");
        double studentOnTrueLabels = LabeledData.Accuracy(student.Network, data);
        Assert.True(studentOnTrueLabels > 0.9, $"student {studentOnTrueLabels:P1}");
        Assert.True(result.Training.EpochLosses[^1] < result.Training.EpochLosses[0]);
    }

    [Fact]
    public void ImportNamesTheUnsupportedNodeAndExportKeepsTheInterface()
    {
        var g = new Graph { Name = "g" };
        g.Inputs.Add(new ValueInfo("in", DataType.Float, [Dim.Symbolic("N"), Dim.Known(4)]));
        g.Outputs.Add(new ValueInfo("prob", DataType.Float, [Dim.Symbolic("N"), Dim.Known(2)]));
        g.Initializers["w"] = Tensor.FromArray<float>(new float[8], 2, 4);
        g.Nodes.Add(new Node("Gemm", ["in", "w"], ["z"], "fc").With(NodeAttribute.Of("transB", 1L)));
        g.Nodes.Add(new Node("Softmax", ["z"], ["prob"], "sm"));
        var model = TrainableModel.Import(OnnxModel.Create(g, 17), "m.onnx");
        Assert.True(model.EndsWithSoftmax);
        var exported = model.Export();
        Assert.Equal("in", exported.Graph.Inputs[0].Name);
        Assert.Equal("prob", exported.Graph.Outputs[0].Name);
        Assert.Equal("Softmax", exported.Graph.Nodes[^1].OpType);

        g.Nodes.Insert(1, new Node("Erf", ["z"], ["e"], "weird"));
        g.Nodes[2] = new Node("Softmax", ["e"], ["prob"], "sm");
        var e = Assert.Throws<UntrainableModelException>(() => TrainableModel.Import(OnnxModel.Create(g, 17), "m.onnx"));
        Assert.Contains("m.onnx", e.Message);
        Assert.Contains("'weird' (Erf)", e.Message);
    }
}
