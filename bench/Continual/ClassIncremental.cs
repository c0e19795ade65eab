using System.Diagnostics;
using EdgeAgent.Runtime.Training;

namespace EdgeAgent.Bench.Continual;

/// <summary>One method's run along the class-incremental stream.</summary>
internal sealed record MethodRun(
    string Method,
    float[][] TaskAccuracy,          // [after task t][on task j], test set
    float[] SeenAccuracy,            // after task t, over all classes seen so far
    double[] UpdateSeconds,          // per update after the first task
    int Accepted,
    int Rejected,
    List<string> Decisions)
{
    public float FinalAccuracy => TaskAccuracy[^1].Average();

    /// <summary>Mean over earlier tasks of (best accuracy before the end − final accuracy).</summary>
    public float Forgetting
    {
        get
        {
            int last = TaskAccuracy.Length - 1;
            if (last == 0) return 0;
            float sum = 0;
            for (int j = 0; j < last; j++)
            {
                float best = 0;
                for (int t = j; t < last; t++) best = MathF.Max(best, TaskAccuracy[t][j]);
                sum += best - TaskAccuracy[last][j];
            }
            return sum / last;
        }
    }
}

/// <summary>
/// Class-incremental Split Fashion-MNIST: 5 tasks of 2 classes. The backbone is trained on task 1's
/// classes only, on training images set aside from the stream, then quantized to int8 and frozen. Each
/// method updates the head along the stream from the same starting head; accuracy is measured on the
/// test set after every task.
/// </summary>
internal sealed class ClassIncremental(ImageSet train, ImageSet test, TextWriter log)
{
    public const int Tasks = 5;
    public const int ReservoirCapacity = 2000;
    public const int FreshPerClass = 1000;
    public const int HeldOutPerClass = 100;
    public const int BackbonePoolSize = 12000;   // first images of the training set: the backbone's data only

    public Int8Backbone? Backbone { get; private set; }
    public Network? InitialHead { get; private set; }
    public List<LabeledEmbedding>[] FreshByTask { get; } = new List<LabeledEmbedding>[Tasks];
    public List<LabeledEmbedding>[] HeldOutByTask { get; } = new List<LabeledEmbedding>[Tasks];
    public List<LabeledEmbedding>[] TestByTask { get; } = new List<LabeledEmbedding>[Tasks];
    public double BackboneTrainSeconds { get; private set; }
    public float BackboneTask1Accuracy { get; private set; }

    public static int TaskOf(int label) => label / 2;

    public static Network BuildModel(int classes) => new([1, 28, 28],
    [
        new Conv2d(1, 16, 3, 3, padH: 1, padW: 1), new BatchNorm(16), new Relu(), new MaxPool2d(2),
        new Conv2d(16, 32, 3, 3, padH: 1, padW: 1), new BatchNorm(32), new Relu(), new MaxPool2d(2),
        new Conv2d(32, 64, 3, 3, padH: 1, padW: 1), new BatchNorm(64), new Relu(), new AvgPool2d(2),
        new Flatten(),
        new Dense(64 * 3 * 3, 128), new Relu(), new Dense(128, classes),
    ]);

    public const int HeadStart = 13;  // the head: Dense → ReLU → Dense on the flattened features

    public void Prepare(int seed)
    {
        var random = new Random(seed);
        // Backbone: task 1's classes from the reserved pool only.
        var pool = Enumerable.Range(0, BackbonePoolSize).Where(i => TaskOf(train.Labels[i]) == 0).ToArray();
        var x = new float[pool.Length * train.Size];
        var y = new int[pool.Length];
        for (int i = 0; i < pool.Length; i++) { train.Image(pool[i]).CopyTo(x.AsSpan(i * train.Size)); y[i] = train.Labels[pool[i]]; }
        var model = BuildModel(2);
        model.Initialize(seed);
        var clock = Stopwatch.StartNew();
        var report = Trainer.Fit(model, new TrainingSet(x, [1, 28, 28], y), new TrainerOptions { Epochs = 3, BatchSize = 64, Seed = seed },
            new Adam(2e-3f));
        BackboneTrainSeconds = clock.Elapsed.TotalSeconds;
        log.WriteLine($"backbone: trained on {pool.Length} task-1 images in {BackboneTrainSeconds:F1} s, losses {string.Join(", ", report.EpochLosses.Select(l => l.ToString("F3")))}");

        var (floatBackbone, head) = model.Split(HeadStart);
        Backbone = Int8Backbone.Quantize(floatBackbone, x, Math.Min(512, pool.Length));
        InitialHead = head;

        // The stream: images after the reserved pool, grouped by task; fresh and held-out are disjoint.
        var stream = Enumerable.Range(BackbonePoolSize, train.Count - BackbonePoolSize).ToArray();
        random.Shuffle(stream);
        var embedded = Embed(train, stream);
        for (int t = 0; t < Tasks; t++) { FreshByTask[t] = []; HeldOutByTask[t] = []; TestByTask[t] = []; }
        var perClassFresh = new int[10];
        var perClassHeld = new int[10];
        foreach (var s in embedded)
        {
            int c = s.Label, t = TaskOf(c);
            if (perClassHeld[c] < HeldOutPerClass) { HeldOutByTask[t].Add(s); perClassHeld[c]++; }
            else if (perClassFresh[c] < FreshPerClass) { FreshByTask[t].Add(s); perClassFresh[c]++; }
        }
        foreach (var s in Embed(test, Enumerable.Range(0, test.Count).ToArray())) TestByTask[TaskOf(s.Label)].Add(s);
        var task1Test = TestByTask[0];
        BackboneTask1Accuracy = UpdateGate.Evaluate(InitialHead, task1Test, 2).Overall;
        log.WriteLine($"int8 backbone: embedding {Backbone.EmbeddingSize} floats; task-1 test accuracy with its own head {BackboneTask1Accuracy:P1}");
    }

    private List<LabeledEmbedding> Embed(ImageSet set, int[] indices)
    {
        var x = new float[indices.Length * set.Size];
        for (int i = 0; i < indices.Length; i++) set.Image(indices[i]).CopyTo(x.AsSpan(i * set.Size));
        var e = Backbone!.Embed(x, indices.Length);
        int d = Backbone.EmbeddingSize;
        return indices.Select((idx, i) => new LabeledEmbedding(e.AsSpan(i * d, d).ToArray(), set.Labels[idx])).ToList();
    }

    public static LearnerOptions BaseOptions => new()
    {
        Epochs = 4, BatchSize = 64, LearningRate = 2e-3f, GateEnabled = false, RequantizeHead = true, Seed = 7,
    };

    public MethodRun Run(string method, LearnerOptions options, bool useReplay, bool joint)
    {
        var head = InitialHead!.Clone();
        var reservoir = new ClassBalancedReservoir(ReservoirCapacity, seed: 11);
        var heldOut = new List<LabeledEmbedding>();
        var seen = new List<LabeledEmbedding>();
        var pending = new List<LabeledEmbedding>();
        var taskAcc = new float[Tasks][];
        var seenAcc = new float[Tasks];
        var seconds = new List<double>();
        var decisions = new List<string>();
        int accepted = 0, rejected = 0;
        for (int t = 0; t < Tasks; t++)
        {
            var fresh = FreshByTask[t];
            heldOut.AddRange(HeldOutByTask[t]);
            seen.AddRange(fresh);
            pending.AddRange(fresh);
            var data = joint
                ? new UpdateData(seen, [], heldOut)
                : new UpdateData(pending, useReplay ? reservoir.Samples : [], heldOut);
            var clock = Stopwatch.StartNew();
            var result = HeadLearner.Update(head, data, options with { Seed = options.Seed + t });
            double s = clock.Elapsed.TotalSeconds;
            if (t > 0) seconds.Add(s);
            string verdict = result.Accepted ? "accepted" : "REJECTED";
            decisions.Add($"task {t + 1}: {verdict} ({result.Reason}) in {s:F2} s");
            if (result.Accepted)
            {
                accepted++;
                head = result.Head;
                pending.Clear();
            }
            else rejected++;
            // The reservoir sees every labelled sample once, whatever the gate said.
            foreach (var f in fresh) reservoir.Offer(f);
            taskAcc[t] = new float[Tasks];
            for (int j = 0; j < Tasks; j++) taskAcc[t][j] = UpdateGate.Evaluate(head, TestByTask[j], int.MaxValue).Overall;
            seenAcc[t] = taskAcc[t].Take(t + 1).Average();
            log.WriteLine($"  {method,-7} after task {t + 1}: seen-class accuracy {seenAcc[t]:P1} [{string.Join(" ", taskAcc[t].Select(a => a.ToString("F2")))}] {verdict} in {s:F2} s");
        }
        return new MethodRun(method, taskAcc, seenAcc, seconds.ToArray(), accepted, rejected, decisions);
    }
}
