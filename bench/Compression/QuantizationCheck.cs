using EdgeAgent.Compression.Data;
using EdgeAgent.Compression.Evaluation;
using EdgeAgent.Compression.Quantization;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;

namespace EdgeAgent.Bench.Compression;

/// <summary>What static int8 quantization did to one trained model, measured as <c>exporter report</c> measures it.</summary>
internal sealed record QuantizationOutcome(
    string Model, string Settings, int CalibrationSamples, long FloatBytes, long QuantizedBytes, int FoldedBatchNorms, ModelReport Report,
    double FloatEngineAgreement, double FloatEngineMaxAbsDifference, QdqByteBreakdown Bytes)
{
    public long Int8WeightBytes => Bytes.Int8Weights;
    public double SizeRatio => QuantizedBytes / (double)FloatBytes;
    /// <summary>The int8 weight tensors alone against the float file: what is left is scales, int32 biases, activation parameters and graph.</summary>
    public double WeightDataRatio => Int8WeightBytes / (double)FloatBytes;
    /// <summary>The file with no graph bytes at all: the least a QDQ file with these weights and per-channel vectors can be.</summary>
    public double FloorRatio => Bytes.FloorBytes / (double)FloatBytes;
}

internal static class QuantizationCheck
{
    public static string Describe(QuantizeOptions options) =>
        $"{options.Method}, activations {(options.Activations == QuantizedType.UInt8 ? "u8" : "s8")}, weights s8 {(options.PerTensorWeights ? "per tensor" : "per channel")}, " +
        $"bias correction {(options.BiasCorrection ? "on" : "off")}, graph outputs {(options.QuantizeGraphOutputs ? "int8" : "float")}";

    /// <summary>Quantizes the float model as <c>exporter quantize</c> does, then measures it (<see cref="Measure"/>).</summary>
    public static QuantizationOutcome Run(string name, byte[] floatOnnx, SampleSet calibration, SampleSet test, QuantizeOptions options, string workDir)
    {
        var model = OnnxReader.Load(floatOnnx);
        var result = QdqQuantizer.Quantize(model, calibration, options);
        return Measure(name, floatOnnx, OnnxWriter.ToBytes(model), Describe(options), calibration.Count, result.FoldedBatchNorms.Count, test, workDir);
    }

    /// <summary>
    /// Writes both files and reports the QDQ model against the float one (in our runtime) and against
    /// ONNX Runtime on <paramref name="test"/>, as <c>exporter report --reference</c> does.
    /// </summary>
    public static QuantizationOutcome Measure(string name, byte[] floatOnnx, byte[] quantizedOnnx, string settings, int calibrationSamples,
                                              int foldedBatchNorms, SampleSet test, string workDir)
    {
        string floatPath = Path.Combine(workDir, name + ".float.onnx"), qPath = Path.Combine(workDir, name + ".int8.onnx");
        File.WriteAllBytes(floatPath, floatOnnx);
        File.WriteAllBytes(qPath, quantizedOnnx);
        var quantized = OnnxReader.Load(qPath);
        var reference = OnnxReader.Load(floatPath);
        var report = ModelReporter.Measure(qPath, quantized, floatPath, reference, test);
        // The float model too must run the same in ONNX Runtime (no quantization step there: absolute difference).
        var (floatAgreement, floatMax) = ModelReporter.CompareEngines(reference, test);
        return new QuantizationOutcome(name, settings, calibrationSamples, floatOnnx.Length, quantizedOnnx.Length, foldedBatchNorms,
                                       report, floatAgreement, floatMax, QdqByteBreakdown.Of(quantized, quantizedOnnx.Length));
    }

    /// <summary>Training-set images as one-sample tensors [1, C, H, W] (with labels when asked).</summary>
    public static SampleSet ToSampleSet(EdgeAgent.Runtime.Training.TrainingSet set, int count, string inputName, bool labels, string source)
    {
        count = Math.Min(count, set.Count);
        var samples = Enumerable.Range(0, count)
            .Select(i => new[] { Tensor.FromArray<float>(set.Sample(i), [1, .. set.SampleShape]) }).ToList();
        return new SampleSet([inputName], samples, labels ? set.Labels.AsSpan(0, count).ToArray() : null, source);
    }
}
