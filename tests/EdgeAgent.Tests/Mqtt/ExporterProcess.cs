using System.Diagnostics;

namespace EdgeAgent.Tests.Mqtt;

/// <summary>Runs the built exporter (tools/Exporter, built alongside these tests) as a separate process, as an operator would.</summary>
internal static class ExporterProcess
{
    public static string DllPath
    {
        get
        {
            // tests/EdgeAgent.Tests/bin/<Configuration>/<tfm>/ → tools/Exporter/bin/<Configuration>/<tfm>/exporter.dll
            string ours = AppContext.BaseDirectory.TrimEnd('/');
            string tfm = Path.GetFileName(ours);
            string configuration = Path.GetFileName(Path.GetDirectoryName(ours)!);
            string path = Path.Combine(Configuration.OptionsBinderTests.RepoRoot(), "tools", "Exporter", "bin", configuration, tfm, "exporter.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("the exporter is not built", path);
        }
    }

    public static async Task<(int Code, string Out, string Err)> RunAsync(TimeSpan timeout, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(DllPath);
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"exporter {string.Join(' ', args)} did not finish within {timeout.TotalSeconds} s; output: {await stdout} {await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
