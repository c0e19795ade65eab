using System.CommandLine;
using EdgeAgent.Compression.Evaluation;
using EdgeAgent.Compression.IO;
using EdgeAgent.Compression.Training;
using EdgeAgent.Exporter.Cli;
using EdgeAgent.Runtime.Onnx;

namespace EdgeAgent.Exporter.Commands;

/// <summary>
/// exporter distill --teacher T.onnx --student S.onnx --data LABELED -o OUT.onnx: the teacher runs in
/// our runtime, the student trains on the training engine against (1−α)·CE + α·T²·KL.
/// </summary>
internal static class DistillCommand
{
    public static Command Create()
    {
        var teacher = new Option<string>("--teacher") { Description = "The trained teacher model (any model our runtime runs).", Required = true, HelpName = "T.onnx" };
        var student = new Option<string>("--student") { Description = "The student model to train (a float chain the training engine imports, e.g. from 'exporter train').", Required = true, HelpName = "S.onnx" };
        var temperature = new Option<float>("--temperature") { Description = "Softening temperature T of both softmaxes.", DefaultValueFactory = _ => 4f, HelpName = "T" };
        var alpha = new Option<float>("--alpha") { Description = "Weight α of the distillation term; 1 − α weighs cross-entropy against the labels.", DefaultValueFactory = _ => 0.7f, HelpName = "A" };
        var shared = new TrainingInputs(defaultEpochs: 5, defaultLearningRate: 1e-3f);
        var command = new Command("distill",
            "Knowledge distillation: train the student on (1−α)·CE(y, student) + α·T²·KL(teacher_T ‖ student_T).")
        {
            teacher, student, temperature, alpha,
        };
        shared.AddTo(command);
        command.SetAction(parse => ExporterCli.Guard("distill", () =>
        {
            var teacherPath = Paths.ExistingFile(parse.GetValue(teacher), "--teacher");
            var studentPath = Paths.ExistingFile(parse.GetValue(student), "--student");
            var outPath = Paths.OutputFile(parse.GetValue(shared.Output), "--output");
            float t = parse.GetValue(temperature), a = parse.GetValue(alpha);
            if (!(t > 0 && float.IsFinite(t))) throw new UsageException($"--temperature {t} must be a positive number");
            if (!(a is >= 0 and <= 1)) throw new UsageException($"--alpha {a} must be between 0 and 1");
            var training = shared.Options(parse, "distill");
            int limit = parse.GetValue(shared.Samples);

            var teacherModel = ModelFiles.Load(teacherPath);
            if (!OursRunner.Supports(teacherModel))
                throw new CommandFailedException($"{teacherPath}: our runtime does not implement {string.Join(", ", EdgeAgent.Runtime.Ops.OperatorRegistry.Unsupported(teacherModel.Graph))}");
            var studentOnnx = ModelFiles.Load(studentPath);
            var model = TrainingInputs.Import(studentOnnx, studentPath);
            var teacherInputs = teacherModel.Graph.RuntimeInputs.ToList();
            var studentInput = studentOnnx.Graph.RuntimeInputs.Single();
            if (teacherInputs.Count != 1 || !SameSampleShape(teacherInputs[0], studentInput))
                throw new CommandFailedException($"{teacherPath} takes {string.Join(", ", teacherInputs)}, {studentPath} takes {studentInput}: teacher and student must read the same input");
            var data = TrainingInputs.Load(parse.GetValue(shared.Data)!, "--data", studentOnnx, model.Network, limit);
            var test = parse.GetValue(shared.TestData) is { } tp ? TrainingInputs.Load(tp, "--test-data", studentOnnx, model.Network, limit) : null;
            double? before = test is null ? null : LabeledData.Accuracy(model.Network, test);

            DistillResult result;
            using (var runner = new OursRunner(teacherModel))
            {
                try
                {
                    result = Distiller.Run(runner, model, data, new DistillOptions
                    {
                        Temperature = t,
                        Alpha = a,
                        TeacherEndsWithSoftmax = teacherModel.Graph.Nodes.Count > 0 && teacherModel.Graph.Nodes[^1].OpType == "Softmax",
                        Training = training,
                    }, (done, total) => ProgressLine.Show("teacher", done, total));
                }
                catch (ArgumentException e) { throw new CommandFailedException($"{teacherPath} → {studentPath}: {e.Message}", e); }
                finally { ProgressLine.Done(); }
            }

            var bytes = OnnxWriter.ToBytes(model.Export());
            AtomicFile.WriteAllBytes(outPath, bytes);
            Console.Out.WriteLine($"{outPath}: student of {model.Network.ParameterCount:N0} parameters distilled (T = {t}, α = {a}) for {result.Training.Epochs} epochs " +
                $"on {data.Count} samples in {result.Training.Seconds:0.0} s, final loss {result.Training.FinalLoss:0.0000}; teacher accuracy on the training data {result.TeacherAccuracy * 100:0.00} %");
            if (test is not null)
                Console.Out.WriteLine($"student test accuracy: {before * 100:0.00} % before, {LabeledData.Accuracy(model.Network, test) * 100:0.00} % after ({test.Count} samples)");
            return ExitCodes.Success;
        }));
        return command;
    }

    private static bool SameSampleShape(EdgeAgent.Runtime.Ir.ValueInfo a, EdgeAgent.Runtime.Ir.ValueInfo b) =>
        a.Shape is { } sa && b.Shape is { } sb && sa.Count == sb.Count && sa.Skip(1).Zip(sb.Skip(1)).All(p => p.First.Value is { } x && p.Second.Value == x);
}
