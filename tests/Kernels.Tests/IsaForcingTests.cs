using System.Diagnostics;
using Xunit;

namespace EdgeAgent.Kernels.Tests;

/// <summary>
/// EDGEAGENT_ISA end to end: a fresh process (the checks runner, managed build) started with the variable set
/// must pick that path for its process-wide kernel table and pass the path's QGEMM checks; a path the CPU
/// lacks or an unknown name must stop it with a message naming the value.
/// </summary>
public class IsaForcingTests
{
    private static readonly Dictionary<Isa, string> KernelNames = new()
    {
        [Isa.Scalar] = "QGemm4x8Scalar", [Isa.Neon] = "QGemm4x4c16Neon", [Isa.NeonDot] = "QGemm4x16NeonDot",
        [Isa.Avx2] = "QGemm4x16Avx2", [Isa.Avx512] = "QGemm6x32Avx512", [Isa.AvxVnni] = "QGemm6x16AvxVnni",
        [Isa.Avx512Vnni] = "QGemm6x64Avx512Vnni",
    };

    public static TheoryData<string> SupportedPaths()
    {
        var data = new TheoryData<string>();
        foreach (var isa in CpuFeatures.Host.SupportedIsas) data.Add(isa.ToName());
        return data;
    }

    [Theory]
    [MemberData(nameof(SupportedPaths))]
    public void ForcedPathIsUsedByANewProcess(string path)
    {
        IsaNames.TryParse(path, out var isa);
        var (exit, output) = RunChecks(path, "--filter", $"qgemm.{path}.shapes");
        Assert.True(exit == 0, output);
        Assert.Contains($"kernel path: {path};", output);
        Assert.Contains($"qgemm: {KernelNames[isa]};", output);
        Assert.Contains("1 passed, 0 failed", output);
    }

    [Fact]
    public void UnknownOrUnsupportedPathIsRefused()
    {
        var (exit, output) = RunChecks("sse9", "--list");
        Assert.Equal(2, exit);
        Assert.Contains("'sse9'", output);
        var missing = IsaNames.All.FirstOrDefault(i => !CpuFeatures.Host.Supports(i));
        if (missing != default)
        {
            (exit, output) = RunChecks(missing.ToName(), "--list");
            Assert.Equal(2, exit);
            Assert.Contains(missing.ToName(), output);
        }
    }

    /// <summary>
    /// The AVX-VNNI path without AVX-512 (Alder Lake and other client cores): 6x16 tiles only, the 256-bit register
    /// epilogue. On a CPU with both, the JIT's AVX-512 switch off shows the process that path.
    /// </summary>
    [Fact]
    public void AvxVnniWithoutAvx512PassesItsChecks()
    {
        if (!CpuFeatures.Host.Supports(Isa.AvxVnni)) return; // no VNNI: the path cannot run here at all
        var (exit, output) = RunChecks("avx-vnni", [("DOTNET_EnableAVX512", "0")], "--filter", "qgemm.avx-vnni", "--filter", "conv");
        Assert.True(exit == 0, output);
        Assert.DoesNotContain("avx512bw", output);
        Assert.Contains("kernel path: avx-vnni;", output);
        Assert.Contains(" 0 failed", output);
    }

    private static (int Exit, string Output) RunChecks(string isa, params string[] args) => RunChecks(isa, [], args);

    private static (int Exit, string Output) RunChecks(string isa, (string Name, string Value)[] environment, params string[] args)
    {
        // The runner is built next to this assembly's own project: .../tests/<project>/bin/<config>/<tfm>/.
        string dir = AppContext.BaseDirectory.Replace(
            $"{Path.DirectorySeparatorChar}Kernels.Tests{Path.DirectorySeparatorChar}",
            $"{Path.DirectorySeparatorChar}Arm64Harness{Path.DirectorySeparatorChar}");
        string dll = Path.Combine(dir, "edgeagent-checks.dll");
        Assert.True(File.Exists(dll), $"checks runner not built at {dll}");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        start.Environment["EDGEAGENT_ISA"] = isa;
        foreach (var (name, value) in environment) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        Assert.True(process.WaitForExit(120_000), "checks runner did not finish in 2 minutes");
        return (process.ExitCode, stdout + stderr.Result);
    }
}
