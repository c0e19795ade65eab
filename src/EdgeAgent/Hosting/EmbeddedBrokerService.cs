using System.Net;
using EdgeAgent.Daemon.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using EdgeAgent.Daemon.Mqtt;
using MQTTnet.Packets;
using MQTTnet.Server;

namespace EdgeAgent.Daemon.Hosting;

/// <summary>
/// When no broker is configured, runs an MQTTnet broker bound to loopback only, so the daemon is
/// controllable on the device itself (and by an SSH tunnel) without exposing anything to the network.
/// Registered before the MQTT client so it listens before the client connects.
/// </summary>
internal sealed class EmbeddedBrokerService(EdgeAgentOptions options, BrokerTraffic traffic, ILogger<EmbeddedBrokerService> logger) : IHostedService, IDisposable
{
    internal static readonly TimeSpan KeepAliveMonitorInterval = TimeSpan.FromSeconds(5);
    private MqttServer? _server;

    /// <summary>The running broker; null when a broker is configured (none is embedded) or before start.</summary>
    public MqttServer? Server => _server is { IsStarted: true } server ? server : null;

    /// <summary>The running broker's subscriptions (followed from before it started); null when <see cref="Server"/> is.</summary>
    public BrokerSubscriptions? Subscriptions => Server is null ? null : _subscriptions;

    private BrokerSubscriptions? _subscriptions;
    private BrokerKeepAlive? _keepAlive;
    private Task? _keepAliveLoop;
    private readonly CancellationTokenSource _stopping = new();

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (options.Mqtt.Broker.Length > 0) return;
        var serverOptions = new MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointBoundIPV6Address(IPAddress.None)
            .WithDefaultEndpointPort(options.Mqtt.EmbeddedPort)
            .WithPersistentSessions()
            .Build();
        // MQTTnet checks every client's keep-alive by copying its client list each scan, whether or not a connected client
        // asked for a keep-alive (the daemon's own in-process connection does not): 64 B every scan for the daemon's
        // life. BrokerKeepAlive checks every 5 s only while such a client is connected (keep-alives are tens of seconds:
        // a 30 s one drops a client after 45 s of silence, at most 50 s with a 5 s check); MQTTnet's scan stays as a
        // rare backstop.
        serverOptions.KeepAliveOptions.MonitorInterval = BrokerKeepAlive.BackstopInterval;
        _server = new MqttServerFactory().CreateMqttServer(serverOptions);
        _subscriptions = BrokerSubscriptions.Attach(_server);
        _keepAlive = BrokerKeepAlive.Attach(_server);
        // BrokerTraffic counts what other clients publish here as the broker receives it; the daemon's own messages,
        // handed to the broker in-process, are counted as they are handed (MqttControlPlaneService), whether or not the
        // broker dispatches them (see BrokerSubscriptions). A publish interceptor would see both, but MQTTnet then makes
        // an event object for every message it dispatches, ~0.2 KB per telemetry batch for a summary line.
        _server.InterceptingInboundPacketAsync += e =>
        {
            if (e.Packet is MqttPublishPacket publish)
                traffic.Add(string.IsNullOrEmpty(publish.Topic) ? "(topic alias)" : publish.Topic, publish.Payload.Length);
            return Task.CompletedTask;
        };
        try
        {
            await _server.StartAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
        {
            throw new ConfigException([new ConfigError("mqtt:embeddedPort",
                $"the embedded broker cannot listen on 127.0.0.1:{options.Mqtt.EmbeddedPort} ({e.Message}); another broker is probably running there: set mqtt:broker to mqtt://127.0.0.1:{options.Mqtt.EmbeddedPort} to use it")]);
        }
        _keepAliveLoop = _keepAlive.RunAsync(KeepAliveMonitorInterval, TimeProvider.System, _stopping.Token);
        Log.EmbeddedBrokerStarted(logger, options.Mqtt.EmbeddedPort);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_keepAliveLoop is not null) await _keepAliveLoop.ConfigureAwait(false);
        if (_server is not null) await _server.StopAsync().ConfigureAwait(false);
    }

    public void Dispose()
    {
        _stopping.Dispose();
        _server?.Dispose();
    }
}
