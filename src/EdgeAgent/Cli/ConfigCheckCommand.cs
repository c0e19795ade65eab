using EdgeAgent.Daemon.Configuration;

namespace EdgeAgent.Daemon.Cli;

/// <summary><c>edgeagent config check FILE</c>: every problem with its key, or a summary of what would run.</summary>
internal static class ConfigCheckCommand
{
    public static int Run(string path)
    {
        try
        {
            // Only the file: the environment of the shell running the check is not the service's.
            var configuration = ConfigLoader.Load(path, [], includeEnvironment: false);
            var options = OptionsBinder.Bind(configuration, out var errors);
            if (errors.Count > 0)
            {
                Console.Error.WriteLine($"{path}: {errors.Count} problem{(errors.Count == 1 ? "" : "s")}:");
                foreach (var error in errors) Console.Error.WriteLine($"  {error.Key}: {error.Reason}");
                return Program.ExitConfig;
            }
            Console.WriteLine($"{path}: valid");
            Console.WriteLine($"  model {options.Model.Name} from {options.Model.StoreDirectory} (keep {options.Model.Keep})");
            foreach (var sensor in options.Sensors)
                Console.WriteLine($"  sensor {sensor.Name}: {sensor.Type} at {sensor.RateHz} Hz{(options.UsesSimulatedDefault ? " (default: no sensors configured)" : "")}");
            Console.WriteLine($"  mqtt {(options.Mqtt.Broker.Length == 0 ? $"embedded broker on 127.0.0.1:{options.Mqtt.EmbeddedPort}" : options.Mqtt.Broker)}");
            Console.WriteLine($"  reservoir {options.Reservoir.Path} ({options.Reservoir.Capacity} unlabelled, {options.Reservoir.LabelledCapacity} labelled, {options.Reservoir.QuotaMegabytes} MB)");
            return 0;
        }
        catch (ConfigException e)
        {
            foreach (var error in e.Errors) Console.Error.WriteLine($"{path}: {error.Reason}");
            return Program.ExitConfig;
        }
    }
}
