using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using EdgeAgent.Bench.Compression;
using EdgeAgent.Compression.Evaluation;
using EdgeAgent.Compression.Models;
using EdgeAgent.Compression.Pruning;
using EdgeAgent.Compression.Quantization;
using EdgeAgent.Compression.Training;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using EdgeAgent.Runtime.Training;

// ./build.sh bench compression: the issue's pruning and distillation claims, measured on Fashion-MNIST.
string outDir = "bench/results", data = FashionMnistSet.DefaultDirectory;
string? modelsDir = null;
int trainSamples = 10000, testSamples = 10000, epochs = 4, finetuneEpochs = 6, seed = 1, calibrationSamples = 200, reportSamples = 2000;
bool baseline = false, deviceSensorModel = true;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
    switch (args[i])
    {
        case "--out": outDir = Next(); break;
        case "--data": data = Next(); break;
        case "--models": modelsDir = Next(); break;
        case "--train-samples": trainSamples = NextInt(); break;
        case "--test-samples": testSamples = NextInt(); break;
        case "--epochs": epochs = NextInt(); break;
        case "--finetune-epochs": finetuneEpochs = NextInt(); break;
        case "--seed": seed = NextInt(); break;
        case "--calibration-samples": calibrationSamples = NextInt(); break;
        case "--report-samples": reportSamples = NextInt(); break;
        case "--baseline": baseline = true; break;
        case "--no-device-model": deviceSensorModel = false; break;
        case "--help":
            Console.WriteLine("edgeagent-bench-compression [--out DIR] [--data DIR] [--train-samples N] [--test-samples N] [--epochs N] [--finetune-epochs N] [--seed N] [--calibration-samples N] [--report-samples N] [--models DIR] [--baseline] [--no-device-model]\n  --models keeps the float and int8 ONNX files there (for exporter report)\n  --baseline also trains the student on the labels alone (what distillation adds)\n  --no-device-model skips the ~1 MB sensor model row");
            return 0;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

var clock = Stopwatch.StartNew();
void Log(string message) => Console.Error.WriteLine($"[{clock.Elapsed.TotalSeconds,6:0}s] {message}");
var train = FashionMnistSet.Load(data, "train", trainSamples);
var test = FashionMnistSet.Load(data, "test", testSamples);
Log($"Fashion-MNIST: {train.Count} training samples (of 60000), {test.Count} test samples");

int[] teacherWidths = [32, 64, 128, 128], strides = [1, 2, 1];
OnnxModel Train(Network net, string what, int trainEpochs, TrainerOptions? extra = null)
{
    var report = Trainer.Fit(net, train, new TrainerOptions
    {
        Epochs = trainEpochs,
        BatchSize = 64,
        Seed = seed,
        EpochCompleted = (e, loss) => Log($"{what}: epoch {e + 1}/{trainEpochs} loss {loss:0.0000}"),
    }, new Adam(2e-3f));
    Log($"{what}: trained in {report.Seconds:0} s");
    return OnnxModelBridge.ToOnnxModel(net.ToOnnxGraph(what, "input", "logits"));
}
OnnxModel Copy(OnnxModel m) => OnnxReader.Load(OnnxWriter.ToBytes(m));

// (a) 50 % structured pruning + finetune.
var baseModel = Train(MobileNetStyle.Create(teacherWidths, strides, 10, seed), "mobilenet", epochs);
double baseAccuracy = Measure.Accuracy(baseModel, test);
Log($"base: accuracy {baseAccuracy:P2}, {Measure.Parameters(baseModel)} parameters");

// (0) Static int8 quantization of the trained models, as `exporter quantize` and `exporter report --reference` do it.
string work = modelsDir ?? Directory.CreateTempSubdirectory("edgeagent-bench-compression-").FullName;
Directory.CreateDirectory(work);
// The defaults of `exporter quantize` (MSE-optimal clipping, bias correction, float graph outputs), then the other calibrations.
var quantOptions = new QuantizeOptions();
var calibration = QuantizationCheck.ToSampleSet(train, calibrationSamples, "input", labels: false, "Fashion-MNIST training images");
var reportSet = QuantizationCheck.ToSampleSet(test, reportSamples, "input", labels: true, "Fashion-MNIST test images");
var quantized = new List<QuantizationOutcome>
{
    QuantizationCheck.Run("mobilenet", OnnxWriter.ToBytes(baseModel), calibration, reportSet, quantOptions, work),
    QuantizationCheck.Run("mobilenet-minmax", OnnxWriter.ToBytes(baseModel), calibration, reportSet, quantOptions with { Method = CalibrationMethod.MinMax }, work),
    QuantizationCheck.Run("mobilenet-percentile", OnnxWriter.ToBytes(baseModel), calibration, reportSet, quantOptions with { Method = CalibrationMethod.Percentile }, work),
};
// The sensor model: exporter demo-model's recipe (Conv1d on simulated vibration windows), quantized by the recipe itself
// (`exporter quantize` defaults, s8 activations). It has about 3 k parameters: most of its QDQ file is fixed overhead.
var vibrationOptions = new VibrationModelOptions { Seed = seed, Log = m => Log($"vibration: {m}") };
var vibration = VibrationModelRecipe.Build(vibrationOptions);
var recipeSettings = QuantizationCheck.Describe(new QuantizeOptions { Activations = QuantizedType.Int8 });
quantized.Add(QuantizationCheck.Measure("vibration", vibration.FloatOnnx, vibration.QuantizedOnnx, $"{recipeSettings} (exporter demo-model)",
                                        vibrationOptions.CalibrationWindows, 0, vibration.Test, work));
// The same recipe at the size of a real device model: the ~1 MB model of the daemon bench (bench/daemon.sh).
if (deviceSensorModel)
{
    var deviceOptions = vibrationOptions with { ConvChannels = [32, 256], EmbeddingWidth = 3584, Log = m => Log($"vibration-1mb: {m}") };
    var device = VibrationModelRecipe.Build(deviceOptions);
    quantized.Add(QuantizationCheck.Measure("vibration-1mb", device.FloatOnnx, device.QuantizedOnnx,
                                            $"{recipeSettings} (exporter demo-model --conv-channels 32,256 --embedding-width 3584, the daemon bench's model)",
                                            deviceOptions.CalibrationWindows, 0, device.Test, work));
}
foreach (var q in quantized)
    Log($"int8 {q.Model}: agreement {q.Report.Top1Agreement:P2}, output SQNR {q.Report.OutputSqnrDb:0.0} dB, size {q.SizeRatio:0.000}x, ours vs ORT {q.Report.EngineMaxDifferenceSteps:0.00} steps");
var pruned = Copy(baseModel);
var prunedLayers = MagnitudePruner.PruneStructured(pruned, 0.5, new HashSet<string>());
double prunedAccuracy = Measure.Accuracy(pruned, test);
Log($"pruned: {prunedLayers.Count} layers, accuracy before finetune {prunedAccuracy:P2}");
var trainable = TrainableModel.Import(pruned, "pruned");
var finetune = Finetuner.Run(trainable, train, new CompressionTrainingOptions
{
    Epochs = finetuneEpochs,
    LearningRate = 1e-3f,
    Seed = seed,
    EpochCompleted = (e, loss) => Log($"finetune: epoch {e + 1}/{finetuneEpochs} loss {loss:0.0000}"),
});
var finetuned = trainable.Export();
double finetunedAccuracy = Measure.Accuracy(finetuned, test);
Log($"finetuned: accuracy {finetunedAccuracy:P2} in {finetune.Training.Seconds:0} s");
var latency = Measure.LatencyMs([baseModel, finetuned], test);
Log($"latency: base {latency[0]:0.000} ms, pruned {latency[1]:0.000} ms");
var finetunedEngines = ModelReporter.CompareEngines(finetuned, reportSet);
if (modelsDir is not null) File.WriteAllBytes(Path.Combine(modelsDir, "mobilenet-pruned-finetuned.float.onnx"), OnnxWriter.ToBytes(finetuned));

// (b) Distillation: student with about half the teacher's parameters, distilled from the base model.
int[] studentWidths = [24, 44, 88, 88];
var studentNet = MobileNetStyle.Create(studentWidths, strides, 10, seed + 1);
var scratchNet = studentNet.Clone();
var student = TrainableModel.Import(OnnxModelBridge.ToOnnxModel(studentNet.ToOnnxGraph("student", "input", "logits")), "student");
DistillResult distill;
using (var teacherRunner = new OursRunner(baseModel))
    distill = Distiller.Run(teacherRunner, student, train, new DistillOptions
    {
        Temperature = 4f,
        Alpha = 0.7f,
        Training = new CompressionTrainingOptions
        {
            Epochs = epochs,
            LearningRate = 2e-3f,
            Seed = seed,
            EpochCompleted = (e, loss) => Log($"distill: epoch {e + 1}/{epochs} loss {loss:0.0000}"),
        },
    });
var distilled = student.Export();
double studentAccuracy = Measure.Accuracy(distilled, test);
Log($"distilled student: accuracy {studentAccuracy:P2} in {distill.Training.Seconds:0} s");
var studentEngines = ModelReporter.CompareEngines(distilled, reportSet);
if (modelsDir is not null) File.WriteAllBytes(Path.Combine(modelsDir, "student-distilled.float.onnx"), OnnxWriter.ToBytes(distilled));
// The same student trained on the labels alone, to show what distillation adds.
double? scratchAccuracy = null;
if (baseline)
{
    scratchAccuracy = Measure.Accuracy(Train(scratchNet, "student-scratch", epochs), test);
    Log($"student trained without teacher: accuracy {scratchAccuracy:P2}");
}

long teacherParams = Measure.Parameters(baseModel), studentParams = Measure.Parameters(distilled);
double speedup = latency[0] / latency[1], lostPoints = (baseAccuracy - finetunedAccuracy) * 100;
double kept = studentAccuracy / baseAccuracy;

// Why a file misses 0.27x: its int8 weights are 0.25x of their float bytes, and each output channel adds 12 bytes
// (weight scale, int32 bias, bias scale) that the float file stores in 4; small fan-ins make that a large share.
static string SizeNote(QuantizationOutcome q) =>
    $"int8 weights {q.Bytes.Int8Weights} B ({q.WeightDataRatio:0.000}x) + per-channel weight scales, int32 biases and bias scales " +
    $"{q.Bytes.PerChannelVectors} B ({q.Bytes.OutputChannels} output channels x 12 B, {q.Bytes.PerChannelVectors / (double)q.FloatBytes:0.000}x) + " +
    $"activation scales/zero points {q.Bytes.ActivationParameters} B + other initializers {q.Bytes.OtherInitializers} B = {q.FloorRatio:0.000}x before any graph byte; " +
    $"the graph (names, nodes, attributes, tensor headers) adds {q.Bytes.Graph} B ({q.Bytes.Graph / (double)q.FloatBytes:0.000}x). " +
    (q.FloorRatio > 0.27 ? "0.27x is out of reach for this model in standard QDQ with per-channel s8 weights and int32 biases." : "The graph bytes are what keeps it above 0.27x.");

// Utf8JsonWriter refuses NaN: an unmeasured number is null.
static void Num(Utf8JsonWriter w, string name, double? value)
{
    if (value is { } v && double.IsFinite(v)) w.WriteNumber(name, v);
    else w.WriteNull(name);
}

Directory.CreateDirectory(outDir);
var jsonPath = Path.Combine(outDir, "compression.json");
using (var stream = File.Create(jsonPath + ".tmp"))
using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
{
    w.WriteStartObject();
    w.WriteString("suite", "compression");
    w.WriteString("date", DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture));
    w.WriteString("machine", $"{Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSArchitecture}, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}");
    w.WriteStartObject("data");
    w.WriteString("dataset", "Debian dataset-fashion-mnist");
    w.WriteNumber("train_samples", train.Count);
    w.WriteNumber("test_samples", test.Count);
    w.WriteString("note", train.Count < 60000 ? $"training set subsampled to its first {train.Count} of 60000 images to train on one core in minutes" : "full training set");
    w.WriteString("quantization_note", $"int8 reports and ours-vs-ONNX-Runtime checks on the first {reportSet.Count} test images; calibration on the first {calibration.Count} training images");
    w.WriteEndObject();
    w.WriteStartArray("quantization");
    foreach (var q in quantized)
    {
        var r = q.Report;
        w.WriteStartObject();
        w.WriteString("model", q.Model);
        w.WriteString("settings", q.Settings);
        w.WriteNumber("calibration_samples", q.CalibrationSamples);
        w.WriteNumber("report_samples", r.Samples);
        w.WriteNumber("batchnorms_folded", q.FoldedBatchNorms);
        w.WriteNumber("float_bytes", q.FloatBytes);
        w.WriteNumber("int8_bytes", q.QuantizedBytes);
        w.WriteNumber("size_ratio", q.SizeRatio);
        w.WriteNumber("int8_weight_data_bytes", q.Int8WeightBytes);
        w.WriteNumber("int8_weight_data_ratio", q.WeightDataRatio);
        w.WriteStartObject("int8_file_bytes");
        w.WriteNumber("int8_weights", q.Bytes.Int8Weights);
        w.WriteNumber("weight_scales", q.Bytes.WeightScales);
        w.WriteNumber("int32_biases", q.Bytes.Int32Biases);
        w.WriteNumber("bias_scales", q.Bytes.BiasScales);
        w.WriteNumber("activation_scales_and_zero_points", q.Bytes.ActivationParameters);
        w.WriteNumber("other_initializers", q.Bytes.OtherInitializers);
        w.WriteNumber("graph", q.Bytes.Graph);
        w.WriteNumber("output_channels", q.Bytes.OutputChannels);
        w.WriteEndObject();
        w.WriteNumber("floor_ratio_without_graph", q.FloorRatio);
        if (q.SizeRatio > 0.27)
            w.WriteString("size_note", SizeNote(q));
        Num(w, "float_accuracy", r.ReferenceAccuracy);
        Num(w, "int8_accuracy", r.Accuracy);
        Num(w, "top1_agreement", r.Top1Agreement);
        Num(w, "output_sqnr_db", r.OutputSqnrDb);
        w.WriteStartObject("layer_sqnr_db");
        foreach (var l in r.Layers) if (l.SqnrDb is { } db) Num(w, l.Node, db);
        w.WriteEndObject();
        Num(w, "ours_vs_ort_top1_agreement", r.EngineTop1Agreement);
        Num(w, "ours_vs_ort_max_difference_steps", r.EngineMaxDifferenceSteps);
        w.WriteNumber("float_ours_vs_ort_top1_agreement", q.FloatEngineAgreement);
        w.WriteNumber("float_ours_vs_ort_max_abs_difference", q.FloatEngineMaxAbsDifference);
        w.WriteBoolean("target_agreement_99_met", r.Top1Agreement >= 0.99);
        w.WriteBoolean("target_sqnr_30db_met", r.OutputSqnrDb >= 30);
        w.WriteBoolean("target_size_0_27_met", q.SizeRatio <= 0.27);
        w.WriteBoolean("target_ort_within_one_step_met", r.EngineMaxDifferenceSteps <= 1.0 + 1e-6);
        w.WriteEndObject();
    }
    w.WriteEndArray();
    w.WriteStartObject("pruning");
    w.WriteString("model", $"MobileNet-style: 3x3/2 stem {teacherWidths[0]} ch, {strides.Length} depthwise-separable blocks to {string.Join('/', teacherWidths[1..])} ch, GAP, Dense 10; {epochs} epochs");
    w.WriteNumber("sparsity", 0.5);
    w.WriteNumber("layers_pruned", prunedLayers.Count);
    w.WriteNumber("parameters_before", teacherParams);
    w.WriteNumber("parameters_after", Measure.Parameters(finetuned));
    w.WriteNumber("accuracy_before", baseAccuracy);
    w.WriteNumber("accuracy_pruned_no_finetune", prunedAccuracy);
    w.WriteNumber("accuracy_after_finetune", finetunedAccuracy);
    w.WriteNumber("finetune_epochs", finetuneEpochs);
    w.WriteNumber("accuracy_points_lost", lostPoints);
    w.WriteNumber("latency_ms_before", latency[0]);
    w.WriteNumber("latency_ms_after", latency[1]);
    w.WriteNumber("speedup", speedup);
    w.WriteNumber("ours_vs_ort_top1_agreement", finetunedEngines.Agreement);
    w.WriteNumber("ours_vs_ort_max_abs_difference", finetunedEngines.MaxSteps);
    w.WriteBoolean("target_speedup_1_6x_met", speedup >= 1.6);
    w.WriteBoolean("target_at_most_1_point_lost_met", lostPoints <= 1.0);
    w.WriteEndObject();
    w.WriteStartObject("distillation");
    w.WriteString("student", $"same architecture, widths {string.Join('/', studentWidths)}");
    w.WriteNumber("teacher_parameters", teacherParams);
    w.WriteNumber("student_parameters", studentParams);
    w.WriteNumber("size_ratio", studentParams / (double)teacherParams);
    w.WriteNumber("temperature", 4);
    w.WriteNumber("alpha", 0.7);
    w.WriteNumber("teacher_accuracy", baseAccuracy);
    w.WriteNumber("student_accuracy", studentAccuracy);
    if (scratchAccuracy is { } sa) w.WriteNumber("student_without_teacher_accuracy", sa);
    w.WriteNumber("kept_fraction", kept);
    w.WriteNumber("ours_vs_ort_top1_agreement", studentEngines.Agreement);
    w.WriteNumber("ours_vs_ort_max_abs_difference", studentEngines.MaxSteps);
    w.WriteBoolean("target_97_percent_kept_met", kept >= 0.97);
    w.WriteEndObject();
    w.WriteNumber("seconds", clock.Elapsed.TotalSeconds);
    w.WriteEndObject();
}
File.Move(jsonPath + ".tmp", jsonPath, overwrite: true);

string Pct(double v) => (v * 100).ToString("0.00", CultureInfo.InvariantCulture) + " %";
Console.WriteLine($"compression bench — Fashion-MNIST, {train.Count} training / {test.Count} test samples, our runtime, 1 thread, batch 1");
Console.WriteLine($"{"measurement",-54} {"value",-28} {"target",-12} met");
Console.WriteLine(new string('-', 102));
void Row(string name, string value, string target, bool? met) => Console.WriteLine($"{name,-54} {value,-28} {target,-12} {(met is null ? "" : met.Value ? "yes" : "NO")}");
foreach (var q in quantized)
{
    var r = q.Report;
    Row($"int8 {q.Model}: float → int8 accuracy", $"{Pct(r.ReferenceAccuracy ?? double.NaN)} → {Pct(r.Accuracy ?? double.NaN)}", "", null);
    Row($"int8 {q.Model}: top-1 agreement with float", Pct(r.Top1Agreement ?? double.NaN), ">= 99 %", r.Top1Agreement >= 0.99);
    Row($"int8 {q.Model}: output SQNR", $"{r.OutputSqnrDb:0.0} dB", ">= 30 dB", r.OutputSqnrDb >= 30);
    Row($"int8 {q.Model}: file size", $"{q.QuantizedBytes} / {q.FloatBytes} = {q.SizeRatio:0.000}x", "<= 0.27x", q.SizeRatio <= 0.27);
    Row($"int8 {q.Model}: int8 weight tensors alone", $"{q.Int8WeightBytes} bytes = {q.WeightDataRatio:0.000}x", "", null);
    Row($"int8 {q.Model}: + per-channel scales/biases", $"{q.Bytes.PerChannelVectors} bytes ({q.Bytes.OutputChannels} ch x 12)", "", null);
    Row($"int8 {q.Model}: + activation params, graph", $"{q.Bytes.ActivationParameters + q.Bytes.OtherInitializers} + {q.Bytes.Graph} bytes", "", null);
    Row($"int8 {q.Model}: file without any graph", $"{q.Bytes.FloorBytes} bytes = {q.FloorRatio:0.000}x", "", null);
    Row($"int8 {q.Model}: ours vs ONNX Runtime", $"{r.EngineMaxDifferenceSteps:0.00} steps, top-1 {Pct(r.EngineTop1Agreement ?? double.NaN)}", "<= 1 step", r.EngineMaxDifferenceSteps <= 1.0 + 1e-6);
    Row($"float {q.Model}: ours vs ONNX Runtime", $"max |diff| {q.FloatEngineMaxAbsDifference:E1}, top-1 {Pct(q.FloatEngineAgreement)}", "", null);
}
Row("base model accuracy", Pct(baseAccuracy), "", null);
Row("50% structured pruned, before finetune", Pct(prunedAccuracy), "", null);
Row($"after finetune ({finetuneEpochs} epochs)", Pct(finetunedAccuracy), "", null);
Row("accuracy lost", $"{lostPoints:0.00} points", "<= 1 point", lostPoints <= 1.0);
Row("latency base → pruned", $"{latency[0]:0.000} → {latency[1]:0.000} ms", "", null);
Row("speed-up", $"{speedup:0.00}x", ">= 1.6x", speedup >= 1.6);
Row("pruned: ours vs ONNX Runtime", $"max |diff| {finetunedEngines.MaxSteps:E1}, top-1 {Pct(finetunedEngines.Agreement)}", "", null);
Row("student / teacher parameters", $"{studentParams} / {teacherParams} ({studentParams / (double)teacherParams:0.00}x)", "0.5x", null);
Row("teacher accuracy", Pct(baseAccuracy), "", null);
Row("distilled student accuracy", Pct(studentAccuracy), "", null);
if (scratchAccuracy is { } sa2) Row("student without teacher (labels only)", Pct(sa2), "", null);
Row("student keeps of teacher's accuracy", Pct(kept), ">= 97 %", kept >= 0.97);
Row("student: ours vs ONNX Runtime", $"max |diff| {studentEngines.MaxSteps:E1}, top-1 {Pct(studentEngines.Agreement)}", "", null);
if (modelsDir is null) Directory.Delete(work, recursive: true);
Console.WriteLine($"results: {jsonPath} ({clock.Elapsed.TotalMinutes:0.0} min)");
return 0;
