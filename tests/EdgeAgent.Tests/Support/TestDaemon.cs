using System.Net;
using System.Net.Sockets;
using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Hosting;
using EdgeAgent.Daemon.Inference;
using EdgeAgent.Daemon.Models;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace EdgeAgent.Tests.Support;

/// <summary>
/// The whole daemon in-process on embedded defaults, serving a <see cref="TextBundle"/> demo model (vibration 0.1,
/// 64-sample 3-channel windows) from <paramref name="dir"/>, with extra <c>--section:key=value</c> settings on top.
/// </summary>
public static class TestDaemon
{
    public static (IHost Host, EdgeAgentOptions Options) Build(TempDirectory dir, params string[] settings)
    {
        string demo = TextBundle.Write(dir.File("demo"), "vibration", "0.1");
        var configuration = ConfigLoader.Load(null, [
            $"--device:stateDirectory={dir.File("state")}",
            $"--model:demoBundle={demo}",
            .. settings,
        ], includeEnvironment: false);
        var options = OptionsBinder.BindOrThrow(configuration);
        var host = DaemonHost.Build(options, configuration, new DaemonHostSettings
        {
            ConfigureServices = services =>
            {
                services.AddSingleton<IBundleVerifier>(new TextBundle.Verifier());
                services.AddSingleton<IInferenceEngineFactory>(new TextBundle.EngineFactory(windowSize: 64, channels: 3));
            },
        });
        return (host, options);
    }

    /// <summary>A loopback TCP port nobody listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
