using System.CommandLine;
using System.CommandLine.Help;
using System.Security.Cryptography;
using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Exporter.Commands;

namespace EdgeAgent.Exporter.Cli;

/// <summary>
/// Builds the command tree and maps outcomes to exit codes: parse errors and invalid values are usage
/// errors (2), anything that goes wrong while doing the work is a failure (1).
/// </summary>
internal static class ExporterCli
{
    public static int Run(string[] args)
    {
        var root = BuildRoot();
        var result = root.Parse(args);
        if (result.Errors.Count > 0 && result.Action is not HelpAction)
        {
            foreach (var error in result.Errors) Console.Error.WriteLine($"exporter: {error.Message}");
            var command = result.CommandResult.Command;
            Console.Error.WriteLine($"Run '{CommandPath(result)} --help' for usage.");
            _ = command;
            return ExitCodes.Usage;
        }
        return result.Invoke(new InvocationConfiguration
        {
            Output = Console.Out,
            Error = Console.Error,
            EnableDefaultExceptionHandler = false,
        });
    }

    private static string CommandPath(ParseResult result)
    {
        var names = new List<string>();
        for (var r = result.CommandResult; r is not null; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, r.Command is RootCommand ? "exporter" : r.Command.Name);
        return string.Join(' ', names);
    }

    public static RootCommand BuildRoot()
    {
        var root = new RootCommand("EdgeAgent exporter: compress ONNX models for the device and ship them as signed bundles.");
        // The built-in version option prints the bare informational version; ours prints "exporter X.Y.Z".
        for (int i = root.Options.Count - 1; i >= 0; i--)
            if (root.Options[i] is VersionOption) root.Options.RemoveAt(i);
        var version = new Option<bool>("--version") { Description = "Print the exporter's version and exit." };
        root.Options.Add(version);
        root.SetAction(parse =>
        {
            if (parse.GetValue(version))
            {
                Console.Out.WriteLine($"exporter {Program.Version}");
                return ExitCodes.Success;
            }
            Console.Error.WriteLine("exporter: a command is required. Run 'exporter --help' for the list.");
            return ExitCodes.Usage;
        });

        root.Subcommands.Add(KeygenCommand.Create());
        root.Subcommands.Add(PackCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(QuantizeCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(DemoModelCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(PruneCommand.Create());
        root.Subcommands.Add(LowRankCommand.Create());
        root.Subcommands.Add(FinetuneCommand.Create());
        root.Subcommands.Add(DistillCommand.Create());
        root.Subcommands.Add(PublishCommand.Create());
        root.Subcommands.Add(FleetCommand.Create());
        return root;
    }

    /// <summary>
    /// Runs a command body, turning the exceptions the libraries throw for bad input into a one-line
    /// message and the right exit code.
    /// </summary>
    public static int Guard(string command, Func<int> body)
    {
        try
        {
            return body();
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"exporter {command}: {e.Message}");
            Console.Error.WriteLine($"Run 'exporter {command} --help' for usage.");
            return ExitCodes.Usage;
        }
        catch (Exception e) when (e is CommandFailedException or EdgeAgent.Compression.Distribution.TransferException or BundleException or KeyFormatException or IOException
                                      or UnauthorizedAccessException or InvalidDataException or CryptographicException
                                      or EdgeAgent.Compression.Data.DataFormatException or EdgeAgent.Runtime.ModelLoadException)
        {
            Console.Error.WriteLine($"exporter {command}: error: {e.Message}");
            return ExitCodes.Failure;
        }
    }
}
