using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using EdgeAgent.Tests.Support;

namespace EdgeAgent.Tests.Mqtt;

/// <summary>
/// A real mosquitto on a free loopback port, with persistence on (as production brokers keep retained messages and
/// sessions over a restart), in its own temporary directory. <see cref="RestartAsync"/> stops it with SIGTERM so it
/// saves its database, and starts it again on the same port.
/// </summary>
public sealed partial class MosquittoBroker : IAsyncDisposable
{
    private readonly string _directory;
    private readonly string _config;
    private Process? _process;

    public int Port { get; }
    public string Url => $"mqtt://127.0.0.1:{Port}";
    public int Restarts { get; private set; }

    private MosquittoBroker(string directory, int port, Func<int, string[]>? listener)
    {
        _directory = directory;
        Port = port;
        _config = Path.Combine(directory, "mosquitto.conf");
        File.WriteAllLines(_config,
        [
            .. listener?.Invoke(port) ?? [$"listener {port} 127.0.0.1"],
            "allow_anonymous true",
            "persistence true",
            $"persistence_location {directory}/",
            "max_queued_messages 100000",
            "max_inflight_messages 64",
            "log_dest none",
            .. Environment.UserName == "root" ? new[] { "user root" } : [],
        ]);
    }

    /// <param name="listener">Replaces the plain loopback listener (TLS tests); gets the chosen port.</param>
    public static async Task<MosquittoBroker> StartAsync(Func<int, string[]>? listener = null, bool tls = false)
    {
        _ = tls; // a TLS listener accepts TCP connections too, so readiness is probed the same way
        string directory = Path.Combine(Path.GetTempPath(), "edgeagent-mosquitto-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var broker = new MosquittoBroker(directory, TestDaemon.FreePort(), listener);
        await broker.LaunchAsync();
        return broker;
    }

    private async Task LaunchAsync()
    {
        var start = new ProcessStartInfo("mosquitto", ["-c", _config]) { RedirectStandardError = true, RedirectStandardOutput = true };
        _process = Process.Start(start) ?? throw new InvalidOperationException("could not start mosquitto");
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"mosquitto exited with {_process.ExitCode}: {await _process.StandardError.ReadToEndAsync()}");
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(20);
            }
        }
        throw new TimeoutException($"mosquitto did not listen on port {Port} within 10 s");
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited) return;
        Kill(_process.Id, 15);
        if (!_process.WaitForExit(10_000)) _process.Kill();
        await _process.WaitForExitAsync();
    }

    public async Task RestartAsync(TimeSpan? downtime = null)
    {
        await StopAsync();
        if (downtime is { } pause) await Task.Delay(pause);
        await LaunchAsync();
        Restarts++;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _process?.Dispose();
        try { Directory.Delete(_directory, recursive: true); } catch (IOException) { }
    }
}
