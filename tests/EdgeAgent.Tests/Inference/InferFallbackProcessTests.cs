using System.Diagnostics;
using System.Runtime.InteropServices;
using EdgeAgent.Runtime.Ir;
using EdgeAgent.Runtime.Onnx;
using EdgeAgent.Tests.Support;
using Xunit;

namespace EdgeAgent.Tests.Inference;

/// <summary>
/// <c>edgeagent infer</c> as an operator runs it (the built edgeagent.dll in its own process) on a model holding an
/// operator we do not implement (CumSum): refused with the node named, and with <c>--allow-fallback</c> run as a whole
/// through ONNX Runtime when its native library ships beside the binary, writing the right values.
/// </summary>
public sealed class InferFallbackProcessTests
{
    private static readonly float[] s_x = [0.5f, -1, 2, 0.25f, 3, 1, 1, -2, 0.5f, 4];

    // x[2,5] → CumSum over axis 1 → Mul 2 → y[2,5]: y = 2 · running sum along each row.
    private static string WriteModel(TempDirectory dir)
    {
        var g = new Graph { Name = "cumsum_model" };
        g.Inputs.Add(ValueInfo.Of("x", DataType.Float, 2, 5));
        g.Outputs.Add(ValueInfo.Of("y", DataType.Float, 2, 5));
        g.Initializers["axis"] = Tensor.Scalar(1L);
        g.Initializers["two"] = Tensor.Scalar(2f);
        g.Nodes.Add(new Node("CumSum", ["x", "axis"], ["running"], "running_sum"));
        g.Nodes.Add(new Node("Mul", ["running", "two"], ["y"], "double"));
        string path = dir.File("cumsum.onnx");
        OnnxWriter.Save(OnnxModel.Create(g, 17), path);
        return path;
    }

    private static float[] Expected()
    {
        var y = new float[s_x.Length];
        for (int r = 0; r < 2; r++)
        {
            float sum = 0;
            for (int c = 0; c < 5; c++) y[r * 5 + c] = 2 * (sum += s_x[r * 5 + c]);
        }
        return y;
    }

    private static bool OrtNativeLibraryPresent =>
        File.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native", "libonnxruntime.so"))
        || File.Exists(Path.Combine(AppContext.BaseDirectory, "libonnxruntime.so"));

    private static (int Code, string Out, string Err) Infer(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "edgeagent.dll");
        Assert.True(File.Exists(dll), $"edgeagent.dll is not built beside the tests ({dll})");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add("infer");
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(60_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"edgeagent infer {string.Join(' ', args)} did not finish within 60 s");
        }
        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    [Fact]
    public void WithoutAllowFallbackTheModelIsRefusedNamingTheNode()
    {
        using var dir = new TempDirectory();
        string model = WriteModel(dir);
        NpyFile.Write(Tensor.FromArray<float>(s_x, 2, 5), dir.File("x.npy"));
        var (code, _, err) = Infer("--model", model, "--input", $"x={dir.File("x.npy")}", "--output", dir.File("out"));
        Assert.Equal(69, code);
        Assert.Contains("running_sum (CumSum)", err);
        Assert.Contains("--allow-fallback", err);
        Assert.False(File.Exists(Path.Combine(dir.File("out"), "y.npy")));
    }

    [Fact]
    public void AllowFallbackRunsTheWholeModelThroughOnnxRuntimeAndSaysWhy()
    {
        using var dir = new TempDirectory();
        string model = WriteModel(dir);
        NpyFile.Write(Tensor.FromArray<float>(s_x, 2, 5), dir.File("x.npy"));
        var (code, stdout, err) = Infer("--model", model, "--input", $"x={dir.File("x.npy")}", "--output", dir.File("out"), "--allow-fallback");
        if (!OrtNativeLibraryPresent)
        {
            // Without the native library the fallback cannot run: a clear refusal, never a crash.
            Assert.Equal(69, code);
            Assert.Contains("ONNX Runtime's native library could not be loaded", err);
            return;
        }
        Assert.True(code == 0, $"exit {code}: {err}");
        Assert.Contains("running through ONNX Runtime because of: running_sum (CumSum)", err);
        Assert.Contains("y: float32[2,5]", stdout);
        var y = NpyFile.Read(Path.Combine(dir.File("out"), "y.npy"));
        Assert.Equal([2, 5], y.Shape.ToArray());
        var expected = Expected();
        var actual = y.ToArray<float>();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 5);
    }
}
