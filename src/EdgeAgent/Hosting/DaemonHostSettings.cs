namespace EdgeAgent.Daemon.Hosting;

/// <summary>How the host is run, beyond the configuration: foreground printing, test seams.</summary>
public sealed class DaemonHostSettings
{
    /// <summary>Print every inference and event to standard output (<c>--print</c>, the demo).</summary>
    public bool PrintToConsole { get; init; }

    /// <summary>Lets tests and the benchmark replace services (engine factory, verifier, sources) before the host is built.</summary>
    public Action<Microsoft.Extensions.DependencyInjection.IServiceCollection>? ConfigureServices { get; init; }
}
