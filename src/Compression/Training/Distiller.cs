using EdgeAgent.Compression.Evaluation;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Compression.Training;

/// <summary>
/// Knowledge distillation: trains a student on (1−α)·CE(y, student) + α·T²·KL(teacher_T ‖ student_T).
/// The teacher is any model our runtime runs (it is never trained, so it need not be importable);
/// its logits are computed once for the whole set, then looked up per batch.
/// </summary>
public static class Distiller
{
    public static DistillResult Run(ModelRunner teacher, TrainableModel student, TrainingSet data, DistillOptions options,
        Action<int, int>? teacherProgress = null)
    {
        options.Training.Validate();
        if (!(options.Temperature > 0 && float.IsFinite(options.Temperature))) throw new ArgumentOutOfRangeException(nameof(options), options.Temperature, "temperature must be positive");
        if (!(options.Alpha is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(options), options.Alpha, "alpha must be in [0, 1]");
        var network = student.Network;
        var (teacherLogits, teacherOutputs) = TeacherLogits(teacher, data, options.TeacherEndsWithSoftmax, teacherProgress);
        if (teacherOutputs != network.OutputSize)
            throw new ArgumentException($"the teacher has {teacherOutputs} outputs per sample, the student {network.OutputSize}: distillation needs the same classes");

        float alpha = options.Alpha, temperature = options.Temperature;
        var batchTeacher = new float[Math.Min(options.Training.BatchSize, data.Count) * teacherOutputs];
        int total = options.Training.TotalSteps(data.Count);
        var report = Trainer.Fit(network, data, new TrainerOptions
        {
            Epochs = options.Training.Epochs,
            BatchSize = options.Training.BatchSize,
            Seed = options.Training.Seed,
            CrossEntropyWeight = 1f - alpha,
            ExtraLoss = alpha == 0 ? null : (logits, indices, gradient) =>
            {
                for (int i = 0; i < indices.Length; i++)
                    teacherLogits.AsSpan(indices[i] * teacherOutputs, teacherOutputs).CopyTo(batchTeacher.AsSpan(i * teacherOutputs));
                return alpha * Distillation.Loss(logits, batchTeacher.AsSpan(0, indices.Length * teacherOutputs), teacherOutputs, temperature, gradient, alpha);
            },
            EpochCompleted = options.Training.EpochCompleted,
            StepCompleted = step => options.Training.Progress?.Invoke(step, total),
        }, new Adam(options.Training.LearningRate));

        int correct = 0;
        for (int i = 0; i < data.Count; i++)
            if (LabeledData.ArgMax(teacherLogits.AsSpan(i * teacherOutputs, teacherOutputs)) == data.Labels[i]) correct++;
        return new DistillResult(report, correct / (double)data.Count);
    }

    /// <summary>
    /// The teacher's logits for every sample, batch 1 (models with a fixed batch size still run).
    /// A teacher ending in Softmax gives probabilities; their logarithm is a valid set of logits
    /// (softmax ignores a per-sample shift), so the distillation target is unchanged.
    /// </summary>
    private static (float[] Logits, int Outputs) TeacherLogits(ModelRunner teacher, TrainingSet data, bool endsWithSoftmax, Action<int, int>? progress)
    {
        if (teacher.OutputNames.Count != 1) throw new ArgumentException($"the teacher has {teacher.OutputNames.Count} outputs; distillation needs one");
        float[]? all = null;
        int outputs = 0;
        for (int i = 0; i < data.Count; i++)
        {
            var input = Tensor.FromArray<float>(data.Sample(i), [1, .. data.SampleShape]);
            var y = teacher.Run([input])[0];
            if (all is null)
            {
                outputs = y.Length;
                all = new float[data.Count * outputs];
            }
            else if (y.Length != outputs) throw new InvalidOperationException($"the teacher gave {y.Length} outputs for sample {i}, {outputs} before");
            if (endsWithSoftmax)
                for (int j = 0; j < y.Length; j++) y[j] = MathF.Log(MathF.Max(y[j], 1e-30f));
            y.CopyTo(all.AsSpan(i * outputs));
            progress?.Invoke(i + 1, data.Count);
        }
        return (all!, outputs);
    }
}

/// <summary>Settings of <see cref="Distiller.Run"/>.</summary>
public sealed class DistillOptions
{
    public float Temperature { get; init; } = 4f;

    /// <summary>Weight of the distillation term; 1 − α weighs cross-entropy against the labels.</summary>
    public float Alpha { get; init; } = 0.7f;

    /// <summary>The teacher's output is already softmax probabilities.</summary>
    public bool TeacherEndsWithSoftmax { get; init; }

    public CompressionTrainingOptions Training { get; init; } = new();
}

/// <summary>The student's training run and the teacher's accuracy on the same data.</summary>
public sealed record DistillResult(TrainingReport Training, double TeacherAccuracy);
