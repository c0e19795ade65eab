using EdgeAgent.Compression.Data;
using EdgeAgent.Compression.Evaluation;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using Xunit;

namespace EdgeAgent.Exporter.Tests;

[Collection("console")]
public sealed class QuantizeCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A float MLP (input [N,12] → 24 → Relu → 5) and labelled samples, written to the temp dir.</summary>
    private void WriteModelAndData(int samples = 120)
    {
        var rng = new Random(4);
        float[] R(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * 0.5f).ToArray();
        var g = new Graph { Name = "mlp" };
        g.Inputs.Add(new ValueInfo("x", DataType.Float, [Dim.Symbolic("N"), Dim.Known(12)]));
        g.Outputs.Add(new ValueInfo("y", DataType.Float, [Dim.Symbolic("N"), Dim.Known(5)]));
        g.Initializers["w1"] = Tensor.FromArray<float>(R(24 * 12), 24, 12);
        g.Initializers["b1"] = Tensor.FromArray<float>(R(24), 24);
        g.Initializers["w2"] = Tensor.FromArray<float>(R(24 * 5), 24, 5);
        g.Initializers["b2"] = Tensor.FromArray<float>(R(5), 5);
        g.Nodes.Add(new Node("Gemm", ["x", "w1", "b1"], ["h"], "fc1").With(NodeAttribute.Of("transB", 1L)));
        g.Nodes.Add(new Node("Relu", ["h"], ["hr"], "relu"));
        g.Nodes.Add(new Node("Gemm", ["hr", "w2", "b2"], ["y"], "fc2"));
        File.WriteAllBytes(_dir["float.onnx"], OnnxWriter.ToBytes(OnnxModel.Create(g, 17)));
        var x = R(samples * 12);
        File.WriteAllBytes(_dir["calib.npy"], NpyFile.ToBytes(Tensor.FromArray<float>(x, samples, 12)));
        File.WriteAllLines(_dir["labeled.csv"], Enumerable.Range(0, samples).Select(i =>
            string.Join(',', x.Skip(i * 12).Take(12).Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "," + (i % 5)));
    }

    [Fact]
    public void DefaultsCorrectBiasesAndKeepTheOutputFloatAndFlagsTurnThatOff()
    {
        WriteModelAndData();
        var (code, output, err) = CliRunner.Run("quantize", _dir["float.onnx"], "-o", _dir["default.onnx"], "--calibration", _dir["calib.npy"]);
        Assert.True(code == 0, err);
        Assert.Contains("(mse,", output);
        Assert.Contains("bias correction: 2 layers", output);
        var defaults = OnnxReader.Load(_dir["default.onnx"]).Graph;
        Assert.Equal("Gemm", defaults.Producer("y")!.OpType);

        (code, output, err) = CliRunner.Run("quantize", _dir["float.onnx"], "-o", _dir["plain.onnx"], "--calibration", _dir["calib.npy"],
                                            "--no-bias-correction", "--quantize-outputs");
        Assert.True(code == 0, err);
        Assert.DoesNotContain("bias correction", output);
        var plain = OnnxReader.Load(_dir["plain.onnx"]).Graph;
        Assert.Equal("DequantizeLinear", plain.Producer("y")!.OpType);
        // Same calibration, so the only difference in fc1's int32 bias is the correction.
        Assert.NotEqual(defaults.Initializers["fc1.bq"].ToArray<int>(), plain.Initializers["fc1.bq"].ToArray<int>());
    }

    [Fact]
    public void QuantizeWritesAModelOnnxRuntimeRunsAndReportMeasuresIt()
    {
        WriteModelAndData();
        var (code, output, err) = CliRunner.Run("quantize", _dir["float.onnx"], "-o", _dir["q.onnx"], "--calibration", _dir["calib.npy"], "--method", "percentile");
        Assert.True(code == 0, err);
        Assert.Contains("2 layers quantized", output);
        var q = OnnxReader.Load(_dir["q.onnx"]);
        Assert.Contains(q.Graph.Nodes, n => n.OpType == "QuantizeLinear");
        using (var ort = new OrtRunner(q))
            Assert.Equal(5, ort.Run([Tensor.FromArray<float>(new float[12], 1, 12)])[0].Length);

        (code, output, err) = CliRunner.Run("report", _dir["q.onnx"], "--reference", _dir["float.onnx"], "--data", _dir["labeled.csv"], "--html", _dir["r.html"]);
        Assert.True(code == 0, err);
        Assert.Matches(@"top-1 agreement with reference\s+\d+\.\d+ %", output);
        Assert.Matches(@"output SQNR\s+\d+\.\d dB", output);
        var html = File.ReadAllText(_dir["r.html"]);
        Assert.Contains("<svg", html);
        Assert.DoesNotContain("<script", html);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org/2000/svg", ""));
    }

    [Fact]
    public void CalibrationOfTheWrongShapeFailsWithExit1AndNoOutput()
    {
        WriteModelAndData();
        File.WriteAllBytes(_dir["bad.npy"], NpyFile.ToBytes(Tensor.FromArray<float>(new float[30], 3, 10)));
        var (code, _, err) = CliRunner.Run("quantize", _dir["float.onnx"], "-o", _dir["q.onnx"], "--calibration", _dir["bad.npy"]);
        Assert.Equal(1, code);
        Assert.Contains("bad.npy", err);
        Assert.Contains("[3,10]", err);
        Assert.False(File.Exists(_dir["q.onnx"]));
        Assert.Empty(Directory.GetFiles(_dir.Path, "*.tmp"));
    }

    [Fact]
    public void AnEmptyCalibrationSetFails()
    {
        WriteModelAndData();
        File.WriteAllText(_dir["empty.csv"], "");
        var (code, _, err) = CliRunner.Run("quantize", _dir["float.onnx"], "-o", _dir["q.onnx"], "--calibration", _dir["empty.csv"]);
        Assert.Equal(1, code);
        Assert.Contains("empty", err);
        Assert.False(File.Exists(_dir["q.onnx"]));
    }

    [Fact]
    public void AModelTheRuntimeCannotParseFails()
    {
        WriteModelAndData();
        File.WriteAllBytes(_dir["broken.onnx"], File.ReadAllBytes(_dir["float.onnx"]).AsSpan(0, 100).ToArray());
        var (code, _, err) = CliRunner.Run("quantize", _dir["broken.onnx"], "-o", _dir["q.onnx"], "--calibration", _dir["calib.npy"]);
        Assert.Equal(1, code);
        Assert.Contains("broken.onnx", err);
        Assert.False(File.Exists(_dir["q.onnx"]));
    }

    [Theory]
    [InlineData("--method", "kl")]
    [InlineData("--activations", "u16")]
    [InlineData("--exclude", "nosuchnode")]
    public void BadOptionValuesAreUsageErrors(string option, string value)
    {
        WriteModelAndData();
        var (code, _, _) = CliRunner.Run("quantize", _dir["float.onnx"], "-o", _dir["q.onnx"], "--calibration", _dir["calib.npy"], option, value);
        Assert.Equal(2, code);
        Assert.False(File.Exists(_dir["q.onnx"]));
    }

    [Theory]
    [InlineData("quantize")]
    [InlineData("report")]
    [InlineData("train")]
    public void NewCommandsHaveHelp(string command)
    {
        var (code, output, _) = CliRunner.Run(command, "--help");
        Assert.Equal(0, code);
        Assert.Matches($@"Usage:\s+\S+ {command} ", output);
    }
}
