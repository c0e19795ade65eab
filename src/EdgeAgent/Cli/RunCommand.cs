using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Hosting;
using EdgeAgent.Daemon.Inference;

namespace EdgeAgent.Daemon.Cli;

/// <summary><c>edgeagent run</c>: parse options, validate the configuration, run the host until SIGTERM.</summary>
internal static class RunCommand
{
    public static bool LooksLikeRunOption(string arg) =>
        arg is "--config" or "--print" || arg.StartsWith("--config=", StringComparison.Ordinal) ||
        (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf(':') > 2);

    public static int Run(string[] args)
    {
        string? configPath = null;
        bool print = false;
        var overrides = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (arg == "--config")
            {
                if (i + 1 >= args.Length) return Program.UsageError("--config needs a file");
                configPath = args[++i];
            }
            else if (arg.StartsWith("--config=", StringComparison.Ordinal)) configPath = arg["--config=".Length..];
            else if (arg == "--print") print = true;
            else if (arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf(':') > 2)
            {
                if (arg.Contains('=')) overrides.Add(arg);
                else if (i + 1 < args.Length) { overrides.Add(arg); overrides.Add(args[++i]); }
                else return Program.UsageError($"{arg} needs a value (--SECTION:KEY=VALUE)");
            }
            else return Program.UsageError($"unknown option '{arg}' for run");
        }

        EdgeAgentOptions options;
        Microsoft.Extensions.Configuration.IConfigurationRoot configuration;
        try
        {
            configuration = ConfigLoader.Load(configPath, overrides);
            options = OptionsBinder.BindOrThrow(configuration);
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine($"edgeagent: {e.Message}");
            return Program.ExitConfig;
        }

        try
        {
            using var host = DaemonHost.Build(options, configuration, new DaemonHostSettings { PrintToConsole = print });
            Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.Run(host);
            return Environment.ExitCode;
        }
        catch (ModelLoadException e)
        {
            Console.Error.WriteLine($"edgeagent: {e.Message}");
            return Program.ExitUnavailable;
        }
        catch (Exception e) when (e is ConfigException or Sensors.SensorException)
        {
            Console.Error.WriteLine($"edgeagent: {e.Message}");
            return Program.ExitConfig;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // Start-up failures that are not our configuration's fault (state directory not writable, ...).
            Console.Error.WriteLine($"edgeagent: cannot start: {e.Message}");
            return Program.ExitSoftware;
        }
    }
}
