using System.Diagnostics;

namespace EdgeAgent.Tests.Support;

/// <summary>Starts tests/EdgeAgent.FaultChild as a separate process and kills it with SIGKILL.</summary>
public sealed class FaultChild : IDisposable
{
    private readonly Process _process;

    private FaultChild(Process process) => _process = process;

    public static string DllPath
    {
        get
        {
            // tests/EdgeAgent.Tests/bin/<Configuration>/<tfm>/ → tests/EdgeAgent.FaultChild/bin/<Configuration>/<tfm>/
            string ours = AppContext.BaseDirectory.TrimEnd('/');
            string tfm = Path.GetFileName(ours);
            string configuration = Path.GetFileName(Path.GetDirectoryName(ours)!);
            string path = Path.Combine(Configuration.OptionsBinderTests.RepoRoot(), "tests", "EdgeAgent.FaultChild", "bin", configuration, tfm, "EdgeAgent.FaultChild.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("the fault child is not built", path);
        }
    }

    /// <summary>Starts the child and waits until it reports its first durable write.</summary>
    public static FaultChild StartAndWaitReady(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(DllPath);
        foreach (var a in args) info.ArgumentList.Add(a);
        var process = Process.Start(info)!;
        var child = new FaultChild(process);
        var ready = process.StandardOutput.ReadLineAsync();
        if (!ready.Wait(TimeSpan.FromSeconds(30)) || ready.Result != "ready")
        {
            string error = process.HasExited ? process.StandardError.ReadToEnd() : "(still running)";
            child.Dispose();
            throw new InvalidOperationException($"fault child did not get ready: {ready.Status} '{(ready.IsCompletedSuccessfully ? ready.Result : null)}' {error}");
        }
        return child;
    }

    public bool HasExited => _process.HasExited;

    public string StandardError => _process.HasExited ? _process.StandardError.ReadToEnd() : "";

    /// <summary>SIGKILL: no finalizers, no flush, no LiteDB dispose — the power-cut case.</summary>
    public void Kill()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: false);
        _process.WaitForExit(10_000);
    }

    /// <summary>What the child wrote to standard output after "ready", up to its end (call after <see cref="Kill"/>).</summary>
    public string[] RemainingOutput()
    {
        if (!_process.HasExited) throw new InvalidOperationException("the child is still running: kill it first");
        return _process.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
