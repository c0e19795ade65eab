using Xunit;

namespace EdgeAgent.Exporter.Tests;

/// <summary>Runs the exporter in-process with captured output. Console is global, so CLI tests share one collection.</summary>
internal static class CliRunner
{
    private static readonly object s_lock = new();

    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        lock (s_lock)
        {
            var output = new StringWriter();
            var error = new StringWriter();
            var (previousOut, previousErr) = (Console.Out, Console.Error);
            Console.SetOut(output);
            Console.SetError(error);
            try
            {
                int code = Program.Main(args);
                return (code, output.ToString(), error.ToString());
            }
            finally
            {
                Console.SetOut(previousOut);
                Console.SetError(previousErr);
            }
        }
    }
}

[CollectionDefinition("console", DisableParallelization = true)]
public sealed class ConsoleCollection;

/// <summary>A scratch directory per test, removed afterwards.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Path = Directory.CreateTempSubdirectory("exporter-test-").FullName;
    public string Path { get; }
    public string this[string name] => System.IO.Path.Combine(Path, name);
    public void Dispose() => Directory.Delete(Path, recursive: true);
}

internal static class TestModels
{
    /// <summary>Debian's libonnx-testdata (installed by build.sh): a one-layer Gemm model with weight and bias initializers.</summary>
    public const string Linear = "/usr/share/libonnx-testdata/data/pytorch-converted/test_Linear/model.onnx";
}
