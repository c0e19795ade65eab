namespace EdgeAgent.Runtime.Training;

/// <summary>Accuracy of a head on a held-out slice, split into classes the current head knew and new ones.</summary>
public sealed record GateEvaluation(float Overall, float OldClasses, float NewClasses, int OldSamples, int NewSamples);

/// <summary>
/// Decides whether a candidate head may replace the current one: overall held-out accuracy must rise
/// by more than the minimum gain, and accuracy on the classes the current head already knew may fall by
/// at most δ. Both heads are judged on the same samples, new classes (which the current head cannot
/// answer) included in the overall figure.
/// </summary>
public static class UpdateGate
{
    public static GateEvaluation Evaluate(Network head, IReadOnlyList<LabeledEmbedding> samples, int oldClassCount)
    {
        int outputs = head.OutputSize, inputSize = head.InputSize;
        int correctOld = 0, correctNew = 0, old = 0, fresh = 0;
        const int Batch = 256;
        var buffer = new float[Math.Min(Batch, Math.Max(1, samples.Count)) * inputSize];
        for (int start = 0; start < samples.Count; start += Batch)
        {
            int n = Math.Min(Batch, samples.Count - start);
            for (int i = 0; i < n; i++)
            {
                var e = samples[start + i].Embedding;
                if (e.Length != inputSize) throw new ArgumentException($"held-out sample {start + i} has {e.Length} features, the head expects {inputSize}");
                e.CopyTo(buffer, i * inputSize);
            }
            var logits = head.Predict(buffer.AsSpan(0, n * inputSize), n);
            for (int i = 0; i < n; i++)
            {
                var row = logits.AsSpan(i * outputs, outputs);
                int best = 0;
                for (int j = 1; j < outputs; j++) if (row[j] > row[best]) best = j;
                int label = samples[start + i].Label;
                bool correct = best == label;
                if (label < oldClassCount) { old++; if (correct) correctOld++; }
                else { fresh++; if (correct) correctNew++; }
            }
        }
        static float Ratio(int a, int b) => b == 0 ? 0f : (float)a / b;
        return new GateEvaluation(Ratio(correctOld + correctNew, old + fresh), Ratio(correctOld, old), Ratio(correctNew, fresh), old, fresh);
    }

    /// <summary>Null when the candidate may be served, otherwise the reason it may not.</summary>
    public static string? Judge(GateEvaluation current, GateEvaluation candidate, float minOverallGain, float maxOldClassDrop)
    {
        if (current.OldSamples + current.NewSamples == 0) return "the held-out slice is empty, so the candidate cannot be judged";
        float gain = candidate.Overall - current.Overall;
        if (!(gain > minOverallGain))
            return $"held-out accuracy did not improve: {current.Overall:P1} → {candidate.Overall:P1} (needs more than +{minOverallGain:P1})";
        float drop = current.OldClasses - candidate.OldClasses;
        if (current.OldSamples > 0 && drop > maxOldClassDrop)
            return $"old-class accuracy fell {drop:P1} ({current.OldClasses:P1} → {candidate.OldClasses:P1}), more than the allowed {maxOldClassDrop:P1}";
        return null;
    }
}
