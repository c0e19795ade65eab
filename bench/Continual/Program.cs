using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeAgent.Bench.Continual;
using EdgeAgent.Runtime.Training;

// ./build.sh bench continual runs this (bench/continual.sh). Modes:
//   edgeagent-bench-continual --out DIR [--data DIR] [--qemu FILE]   the whole suite → DIR/continual.json, .svg, .log
//   edgeagent-bench-continual --time-update                          one update's cost as a JSON line (used under qemu)

string outDir = "bench/results", dataDir = FashionMnist.DefaultDirectory;
string? qemuFile = null;
bool timeOnly = false, driftOnly = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--out" when i + 1 < args.Length: outDir = args[++i]; break;
        case "--data" when i + 1 < args.Length: dataDir = args[++i]; break;
        case "--qemu" when i + 1 < args.Length: qemuFile = args[++i]; break;
        case "--time-update": timeOnly = true; break;
        case "--drift-only": driftOnly = true; break;
        default:
            Console.Error.WriteLine($"edgeagent-bench-continual: unknown argument '{args[i]}'; usage: --out DIR [--data DIR] [--qemu FILE] | --time-update");
            return 2;
    }
}

// Ours: replay + distillation + L2-SP anchor + gate. The baselines switch parts off.
var ours = ClassIncremental.BaseOptions with
{
    ReplayRatio = 0.5f, ClassBalancedReplay = true, DistillationWeight = 0.5f, Temperature = 2f, Anchor = AnchorKind.L2SP, AnchorWeight = 1e-3f,
    GateEnabled = true, MaxOldClassDrop = 0.10f,
};
const int CostEmbedding = 576;

if (timeOnly)
{
    var cost = UpdateCost.Measure(ours, CostEmbedding, repeats: 3);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"{{\"update_s\":{cost.MedianSeconds:F3},\"epochs\":{cost.Epochs},\"steps\":{cost.Steps},\"samples_per_epoch\":{cost.TrainingSamples},\"allocated_bytes\":{cost.AllocatedBytes}}}"));
    return 0;
}

Directory.CreateDirectory(outDir);
using var logFile = new StreamWriter(Path.Combine(outDir, "continual.log"));
var log = new TeeWriter(Console.Out, logFile);
var total = Stopwatch.StartNew();
log.WriteLine($"continual bench: {Environment.ProcessorCount} logical CPUs visible; all training single-threaded");

if (driftOnly)
{
    new DomainDrift(log).Run(seed: 5, ours with { Epochs = 6, DistillReplayOnly = true }, out _);
    return 0;
}

var train = FashionMnist.Load(dataDir, "train");
var test = FashionMnist.Load(dataDir, "test");
var classIl = new ClassIncremental(train, test, log);
classIl.Prepare(seed: 1);

var methods = new (string Name, LearnerOptions Options, bool Replay, bool Joint)[]
{
    ("naive", ClassIncremental.BaseOptions, false, false),
    ("joint", ClassIncremental.BaseOptions, false, true),
    ("replay", ClassIncremental.BaseOptions with { ReplayRatio = 0.5f, ClassBalancedReplay = true }, true, false),
    ("kd", ClassIncremental.BaseOptions with { ReplayRatio = 0f, DistillationWeight = 0.5f, Temperature = 2f }, false, false),
    ("ours", ours, true, false),
};
var runs = new List<MethodRun>();
foreach (var m in methods) runs.Add(classIl.Run(m.Name, m.Options, m.Replay, m.Joint));

log.WriteLine("domain-incremental sensor drift:");
var drift = new DomainDrift(log).Run(seed: 5, ours with { Epochs = 6, DistillReplayOnly = true }, out var driftDecisions);

log.WriteLine("cost of one update (x64, this thread):");
var cost64 = UpdateCost.Measure(ours, CostEmbedding, repeats: 5);
log.WriteLine($"  median {cost64.MedianSeconds:F3} s, mean {cost64.Seconds:F3} s, {cost64.Epochs} epochs × {cost64.TrainingSamples} samples, allocated {cost64.AllocatedBytes / 1048576.0:F1} MiB, peak RSS +{cost64.PeakRssDeltaBytes / 1048576.0:F1} MiB");
string? qemuJson = qemuFile is not null && File.Exists(qemuFile) ? File.ReadAllText(qemuFile).Trim() : null;

float jointFinal = runs.Single(r => r.Method == "joint").FinalAccuracy;
var oursRun = runs.Single(r => r.Method == "ours");

var json = new MemoryStream();
using (var w = new Utf8JsonWriter(json, new JsonWriterOptions { Indented = true }))
{
    w.WriteStartObject();
    w.WriteStartArray("rows");
    foreach (var r in runs)
    {
        w.WriteStartObject();
        w.WriteString("scenario", "fmnist-class-il");
        w.WriteString("method", r.Method);
        w.WriteNumber("final_acc", Math.Round(r.FinalAccuracy, 4));
        w.WriteNumber("forgetting", Math.Round(r.Forgetting, 4));
        w.WriteNumber("update_s", Math.Round(r.UpdateSeconds.Average(), 3));
        w.WriteStartArray("seen_class_acc_after_task");
        foreach (float a in r.SeenAccuracy) w.WriteNumberValue(Math.Round(a, 4));
        w.WriteEndArray();
        w.WriteNumber("accepted_updates", r.Accepted);
        w.WriteNumber("rejected_updates", r.Rejected);
        w.WriteEndObject();
    }
    foreach (var d in drift)
    {
        w.WriteStartObject();
        w.WriteString("scenario", "vibration-domain-drift");
        w.WriteString("stage", d.Stage);
        w.WriteNumber("acc_ours", Math.Round(d.AccuracyOurs, 4));
        w.WriteNumber("acc_no_updates", Math.Round(d.AccuracyNoUpdates, 4));
        w.WriteNumber("acc_regime_a_ours", Math.Round(d.AccuracyRegimeA, 4));
        w.WriteNumber("embedding_psi", Math.Round(d.Psi, 3));
        w.WriteString("note", d.Note);
        w.WriteEndObject();
    }
    w.WriteEndArray();
    w.WriteStartObject("targets");
    w.WriteNumber("ours_over_joint", Math.Round(oursRun.FinalAccuracy / jointFinal, 3));
    w.WriteBoolean("ours_ge_0_85_joint", oursRun.FinalAccuracy >= 0.85f * jointFinal);
    w.WriteBoolean("ours_forgetting_le_0_10", oursRun.Forgetting <= 0.10f);
    w.WriteBoolean("update_le_1s", cost64.MedianSeconds <= 1.0);
    w.WriteBoolean("update_le_16mb", Math.Max(cost64.AllocatedBytes, cost64.PeakRssDeltaBytes) <= 16L * 1024 * 1024);
    w.WriteEndObject();
    w.WriteStartObject("update_cost");
    w.WriteString("what", "one update of ours: 2,000 reservoir samples per epoch (400 fresh of 2 new classes + 1,600 replayed of 8 old, class-balanced), KD + L2-SP, requantize per channel, gate on 200 held-out; single thread; memory = bytes allocated during the update (upper bound of the extra managed memory)");
    w.WriteNumber("embedding", cost64.EmbeddingSize);
    w.WriteNumber("head_parameters", cost64.HeadParameters);
    w.WriteNumber("epochs", cost64.Epochs);
    w.WriteNumber("samples_per_epoch", cost64.TrainingSamples);
    w.WriteNumber("x64_median_s", Math.Round(cost64.MedianSeconds, 3));
    w.WriteNumber("x64_allocated_mb", Math.Round(cost64.AllocatedBytes / 1048576.0, 2));
    w.WriteNumber("x64_peak_rss_delta_mb", Math.Round(cost64.PeakRssDeltaBytes / 1048576.0, 2));
    if (qemuJson is not null)
    {
        using var doc = JsonDocument.Parse(qemuJson);
        w.WriteNumber("qemu_cortex_a72_s", doc.RootElement.GetProperty("update_s").GetDouble());
    }
    else w.WriteNull("qemu_cortex_a72_s");
    w.WriteEndObject();
    w.WriteStartObject("setup");
    w.WriteString("data", "Fashion-MNIST (Debian dataset-fashion-mnist); tasks {0,1},{2,3},{4,5},{6,7},{8,9}");
    w.WriteString("backbone", $"3×(conv3x3+BN+ReLU) CNN trained {classIl.BackboneTrainSeconds:F0} s on task-1 classes of training images 0..{ClassIncremental.BackbonePoolSize - 1} only (disjoint from the stream); BN folded, int8 per-channel weights, u8 activations");
    w.WriteNumber("embedding", classIl.Backbone!.EmbeddingSize);
    w.WriteNumber("fresh_per_class", ClassIncremental.FreshPerClass);
    w.WriteNumber("held_out_per_class", ClassIncremental.HeldOutPerClass);
    w.WriteNumber("reservoir", ClassIncremental.ReservoirCapacity);
    w.WriteString("update_s_meaning", "mean wall time of the updates after task 1 in this scenario: each trains on 2,000 fresh samples plus replay, 4 epochs over the fresh ones");
    w.WriteString("evaluation", "final_acc: test-set accuracy over all 10 classes after task 5; forgetting: mean over tasks 1-4 of (best earlier accuracy − final accuracy)");
    w.WriteString("ours", "class-balanced replay (≥ 0.5) + KD α=0.5 T=2 + L2-SP λ=1e-3 + gate δ=0.10; head requantized per channel s8 after every update");
    w.WriteNumber("seconds_total", Math.Round(total.Elapsed.TotalSeconds, 1));
    w.WriteEndObject();
    w.WriteStartArray("decisions");
    foreach (var r in runs.Where(r => r.Method == "ours")) foreach (var d in r.Decisions) w.WriteStringValue("ours " + d);
    foreach (var d in driftDecisions) w.WriteStringValue("drift " + d);
    w.WriteEndArray();
    w.WriteEndObject();
}
File.WriteAllBytes(Path.Combine(outDir, "continual.json"), json.ToArray());

var plot = new SvgPlot(1100, 470);
plot.Chart(0, 0, 600, 440, "Split Fashion-MNIST: accuracy on classes seen so far", "after task",
    Enumerable.Range(1, ClassIncremental.Tasks).Select(t => $"{t} ({2 * t} cl.)").ToArray(),
    runs.Select(r => (r.Method, r.SeenAccuracy.Select(a => (double)a).ToArray())).ToList());
plot.Chart(600, 0, 500, 440, "Vibration regime change: accuracy on the new regime", "stage",
    drift.Select((d, i) => i == 0 ? "before (A)" : i == 1 ? "drift" : $"update {i - 1}").ToArray(),
    [("ours (gated updates)", drift.Select(d => (double)d.AccuracyOurs).ToArray()), ("no updates", drift.Select(d => (double)d.AccuracyNoUpdates).ToArray()),
     ("ours on regime A", drift.Select(d => (double)d.AccuracyRegimeA).ToArray())]);
File.WriteAllText(Path.Combine(outDir, "continual.svg"), plot.Finish());

log.WriteLine();
log.WriteLine("method   final_acc  forgetting  update_s");
foreach (var r in runs) log.WriteLine($"{r.Method,-8} {r.FinalAccuracy,9:F3}  {r.Forgetting,10:F3}  {r.UpdateSeconds.Average(),8:F3}");
log.WriteLine($"ours / joint = {oursRun.FinalAccuracy / jointFinal:F3}; update cost {cost64.MedianSeconds:F3} s x64" + (qemuJson is null ? "" : $", qemu cortex-a72: {qemuJson}"));
log.WriteLine($"wrote {Path.Combine(outDir, "continual.json")} and continual.svg in {total.Elapsed.TotalSeconds:F0} s");
return 0;

/// <summary>Writes every line to the console and the log file.</summary>
internal sealed class TeeWriter(TextWriter a, TextWriter b) : TextWriter
{
    public override System.Text.Encoding Encoding => a.Encoding;
    public override void Write(char value) { a.Write(value); b.Write(value); }
    public override void WriteLine(string? value) { a.WriteLine(value); b.WriteLine(value); a.Flush(); b.Flush(); }
}
