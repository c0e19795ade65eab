using System.Reflection;
using EdgeAgent.Exporter.Cli;

namespace EdgeAgent.Exporter;

public static class Program
{
    public static string Version =>
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    /// <summary>Exit codes: 0 success, 1 the operation failed, 2 the command line is wrong.</summary>
    public static int Main(string[] args) => ExporterCli.Run(args);
}
