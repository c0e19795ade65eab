using System.Reflection;
using EdgeAgent.Daemon.Cli;
using EdgeAgent.Kernels;

namespace EdgeAgent.Daemon;

/// <summary>
/// The <c>edgeagent</c> command line: <c>run</c> (the default, what systemd starts), <c>--version</c>,
/// <c>config check FILE</c>, <c>doctor</c> and <c>infer</c>. Exit codes follow sysexits(3) so systemd and
/// scripts can tell a usage error (64/2) from a bad configuration (78) from a missing model (69).
/// </summary>
public static class Program
{
    public const int ExitUsage = 2;
    public const int ExitUnavailable = 69;
    public const int ExitSoftware = 70;
    public const int ExitConfig = 78;

    /// <summary>The informational version without its build metadata; read once (every status reports it, once a minute).</summary>
    public static string Version { get; } =
        typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static int Main(string[] args)
    {
        if (args is ["--version"] or ["version"])
        {
            Console.WriteLine($"edgeagent {Version} ({CpuFeatures.Host.Describe()}, kernels: {KernelPath()})");
            return 0;
        }
        if (args is ["-h"] or ["--help"] or ["help"])
        {
            Console.WriteLine(Usage);
            return 0;
        }
        if (args.Length == 0) return RunCommand.Run([]);
        return args[0] switch
        {
            "run" => RunCommand.Run(args[1..]),
            "config" when args is ["config", "check", _] => ConfigCheckCommand.Run(args[2]),
            "doctor" => DoctorCommand.Run(args[1..]),
            "infer" => InferCommand.Run(args[1..]),
            // Bare configuration overrides (`edgeagent --pipeline:hop=32`) mean `run` with them.
            _ when RunCommand.LooksLikeRunOption(args[0]) => RunCommand.Run(args),
            _ => UsageError($"unknown command or option '{args[0]}'"),
        };
    }

    internal static int UsageError(string message)
    {
        Console.Error.WriteLine($"edgeagent: {message}");
        Console.Error.WriteLine(Usage);
        return ExitUsage;
    }

    private static string KernelPath()
    {
        try
        {
            return IsaSelection.FromEnvironment().ToName();
        }
        catch (IsaNotSupportedException e)
        {
            return "invalid (" + e.Message + ")";
        }
    }

    public const string Usage = """
        usage: edgeagent [run] [--config FILE] [--print] [--SECTION:KEY=VALUE ...]
               edgeagent config check FILE
               edgeagent doctor [--config FILE]
               edgeagent infer --model M.onnx --input NAME=FILE ... (see edgeagent infer --help)
               edgeagent --version

          run            the daemon (default); reads /etc/edgeagent/edgeagent.json, then EDGEAGENT__* variables,
                         then --SECTION:KEY=VALUE options (e.g. --pipeline:hop=32); --print shows each inference
          config check   validate a configuration file and exit (0 = valid, 78 = invalid, every problem listed)
          doctor         CPU and kernel path, GPIO/I2C/SPI devices and permissions, broker, model store
        """;
}
