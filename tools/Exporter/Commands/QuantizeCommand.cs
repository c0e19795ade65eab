using System.CommandLine;
using EdgeAgent.Compression.Data;
using EdgeAgent.Compression.IO;
using EdgeAgent.Compression.Quantization;
using EdgeAgent.Exporter.Cli;
using EdgeAgent.Runtime;
using EdgeAgent.Runtime.Onnx;

namespace EdgeAgent.Exporter.Commands;

/// <summary>exporter quantize IN.onnx -o OUT.onnx --calibration DATA: static int8 QDQ quantization.</summary>
internal static class QuantizeCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("model") { Description = "The float ONNX model.", HelpName = "IN.onnx" };
        var output = new Option<string>("--output", "-o") { Description = "The quantized QDQ model to write.", Required = true, HelpName = "OUT.onnx" };
        var calibration = new Option<string>("--calibration")
        {
            Description = "Calibration samples: .npy, .npz, .csv, an IDX images file, or a folder of .pb tensors.",
            Required = true,
            HelpName = "DATA",
        };
        var method = new Option<string>("--method") { Description = "How activation ranges are chosen.", DefaultValueFactory = _ => "mse", HelpName = "minmax|percentile|entropy|mse" };
        method.AcceptOnlyFromAmong("minmax", "percentile", "entropy", "mse");
        var activations = new Option<string>("--activations") { Description = "Activation type (weights are always s8).", DefaultValueFactory = _ => "u8", HelpName = "u8|s8" };
        activations.AcceptOnlyFromAmong("u8", "s8");
        var perTensor = new Option<bool>("--per-tensor") { Description = "One weight scale per tensor instead of per output channel." };
        var exclude = new Option<string[]>("--exclude") { Description = "Node names to keep in float.", HelpName = "NODE", AllowMultipleArgumentsPerToken = true };
        var noBiasCorrection = new Option<bool>("--no-bias-correction") { Description = "Keep the int32 biases as rounded, without correcting each channel's mean shift on the calibration samples." };
        var quantizeOutputs = new Option<bool>("--quantize-outputs") { Description = "Also round graph outputs to 8 bits (by default they stay float)." };
        var samples = new Option<int>("--samples") { Description = "Use at most this many calibration samples.", DefaultValueFactory = _ => 1000, HelpName = "N" };
        var command = new Command("quantize", "Static post-training int8 quantization to a standard QDQ ONNX model.")
        {
            input, output, calibration, method, activations, perTensor, exclude, noBiasCorrection, quantizeOutputs, samples,
        };
        command.SetAction(parse => ExporterCli.Guard("quantize", () =>
        {
            var inPath = Paths.ExistingFile(parse.GetValue(input), "model");
            var outPath = Paths.OutputFile(parse.GetValue(output), "--output");
            var dataPath = parse.GetValue(calibration)!;
            if (!File.Exists(dataPath) && !Directory.Exists(dataPath)) throw new UsageException($"--calibration '{dataPath}' does not exist");
            int limit = parse.GetValue(samples);
            if (limit <= 0) throw new UsageException("--samples must be positive");
            var options = new QuantizeOptions
            {
                Method = parse.GetValue(method) switch
                {
                    "percentile" => CalibrationMethod.Percentile,
                    "entropy" => CalibrationMethod.Entropy,
                    "mse" => CalibrationMethod.Mse,
                    _ => CalibrationMethod.MinMax,
                },
                Activations = parse.GetValue(activations) == "s8" ? QuantizedType.Int8 : QuantizedType.UInt8,
                PerTensorWeights = parse.GetValue(perTensor),
                Exclude = new HashSet<string>(parse.GetValue(exclude) ?? [], StringComparer.Ordinal),
                BiasCorrection = !parse.GetValue(noBiasCorrection),
                QuantizeGraphOutputs = parse.GetValue(quantizeOutputs),
                Progress = (pass, done, total) => ProgressLine.Show(pass == 3 ? "bias correction" : "calibrating", done, total),
            };
            var model = ModelFiles.Load(inPath);
            foreach (var name in options.Exclude)
                if (!model.Graph.Nodes.Any(n => n.Name == name)) throw new UsageException($"--exclude: no node named '{name}' in {inPath}");
            var inputs = model.Graph.RuntimeInputs.ToList();
            SampleSet data;
            try { data = DatasetLoader.Load(dataPath, inputs, wantLabels: false, limit); }
            catch (DataFormatException e) { throw new CommandFailedException($"calibration data: {e.Message}", e); }

            QuantizationResult result;
            try { result = QdqQuantizer.Quantize(model, data, options); }
            catch (InvalidOperationException e) { throw new CommandFailedException($"{inPath}: {e.Message}", e); }
            ProgressLine.Done();
            var bytes = OnnxWriter.ToBytes(model);
            AtomicFile.WriteAllBytes(outPath, bytes);
            long before = new FileInfo(inPath).Length;
            Console.Out.WriteLine($"{outPath}: {result.Layers.Count} layers quantized ({parse.GetValue(method)}, activations {parse.GetValue(activations)}, " +
                                  $"weights s8 {(options.PerTensorWeights ? "per tensor" : "per channel")}) on {data.Count} samples; " +
                                  $"{bytes.Length} bytes = {bytes.Length / (double)before:0.000}× of {before}");
            if (result.BiasCorrectedLayers > 0)
                Console.Out.WriteLine($"  bias correction: {result.BiasCorrectedLayers} layers, largest change {result.LargestBiasCorrection} bias steps");
            if (result.FoldedBatchNorms.Count > 0)
                Console.Out.WriteLine($"  {result.FoldedBatchNorms.Count} BatchNormalization folded into the Conv before them: {string.Join(", ", result.FoldedBatchNorms)}");
            foreach (var l in result.Layers)
                Console.Out.WriteLine($"  {l.Node,-24} {l.OpType,-7} in scale {l.Input.Scale:G4} zp {l.Input.ZeroPoint,4}   {(l.OutputParameters is { } o ? $"out scale {o.Scale:G4} zp {o.ZeroPoint,4}" : "out float")}");
            return ExitCodes.Success;
        }));
        return command;
    }
}
