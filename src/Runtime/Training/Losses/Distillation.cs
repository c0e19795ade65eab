namespace EdgeAgent.Runtime.Training;

/// <summary>
/// Knowledge distillation term T²·KL(softmax(z_teacher/T) ‖ softmax(z_student/T)), averaged over the
/// batch. The teacher may have fewer outputs than the student (a head that grew for new classes):
/// then only the student's first outputs are distilled, which is what keeps old classes' answers.
/// </summary>
public static class Distillation
{
    /// <summary>
    /// Returns the mean T²·KL and adds weight·∂/∂z_student to <paramref name="gradient"/>:
    /// ∂(T²·KL)/∂z_student = T·(softmax(z_student/T) − softmax(z_teacher/T)) on the distilled outputs.
    /// Only samples from <paramref name="firstSample"/> on are distilled (the rest contribute zero),
    /// still averaged over the whole batch so a sample weighs the same whatever the batch's mix.
    /// </summary>
    public static float Loss(TrainingTensor studentLogits, ReadOnlySpan<float> teacherLogits, int teacherOutputs,
        float temperature, TrainingTensor? gradient = null, float weight = 1f, int firstSample = 0)
    {
        if (temperature <= 0) throw new ArgumentOutOfRangeException(nameof(temperature), "temperature must be positive");
        int n = studentLogits.Batch, c = studentLogits.SampleSize, k = teacherOutputs;
        if (k <= 0 || k > c) throw new ArgumentException($"teacher has {k} outputs, student {c}: distillation needs 1 ≤ teacher ≤ student");
        if (teacherLogits.Length != n * k) throw new ArgumentException($"teacher logits: expected {n}×{k}, got {teacherLogits.Length}");
        Span<float> p = k <= 1024 ? stackalloc float[k] : new float[k];
        Span<float> q = k <= 1024 ? stackalloc float[k] : new float[k];
        double total = 0;
        for (int i = firstSample; i < n; i++)
        {
            SoftmaxCrossEntropy.Softmax(teacherLogits.Slice(i * k, k), p, temperature);
            SoftmaxCrossEntropy.Softmax(studentLogits.Sample(i)[..k], q, temperature);
            double kl = 0;
            for (int j = 0; j < k; j++)
                if (p[j] > 0) kl += p[j] * (Math.Log(p[j]) - Math.Log(Math.Max(q[j], 1e-30f)));
            total += temperature * temperature * kl;
            if (gradient is null) continue;
            var g = gradient.Sample(i);
            float scale = weight * temperature / n;
            for (int j = 0; j < k; j++) g[j] += scale * (q[j] - p[j]);
        }
        return (float)(total / n);
    }
}
