using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Inference;
using EdgeAgent.Daemon.Mqtt;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Hosting.MqttBridge;

/// <summary>
/// Runs the MQTT control plane (src/EdgeAgent/Mqtt) inside the host: maps <c>mqtt:*</c> onto its options
/// (the embedded broker when none is configured), feeds it every inference as telemetry and every daemon event.
/// </summary>
internal sealed class MqttControlPlaneService(
    EdgeAgentOptions options, BrokerEndpoint broker, IDeviceControl device, Mqtt.IModelStore store, Mqtt.IBundleVerifier verifier,
    Broadcast<InferenceRecord> records, EventHub events, ILoggerFactory loggers) : BackgroundService
{
    private MqttControlPlane? _plane;

    public static Mqtt.MqttOptions MapOptions(EdgeAgentOptions o, BrokerEndpoint broker) => new()
    {
        Broker = $"{(broker.Tls ? "mqtts" : "mqtt")}://{broker.Host}:{broker.Port}",
        DeviceId = o.Device.Id,
        Username = o.Mqtt.Username.Length > 0 ? o.Mqtt.Username : null,
        PasswordFile = o.Mqtt.PasswordFile.Length > 0 ? o.Mqtt.PasswordFile : null,
        CaFile = o.Mqtt.CaFile.Length > 0 ? o.Mqtt.CaFile : null,
        ClientCertFile = o.Mqtt.CertFile.Length > 0 ? o.Mqtt.CertFile : null,
        ClientKeyFile = o.Mqtt.KeyFile.Length > 0 ? o.Mqtt.KeyFile : null,
        KeepAliveSeconds = o.Mqtt.KeepAliveSeconds,
        FleetGroups = o.Mqtt.FleetGroups.ToArray(),
        TelemetryIntervalMs = o.Mqtt.TelemetryIntervalMs,
        OutboxPath = Path.Combine(o.Device.StateDirectory, "outbox.db"),
        TransferDirectory = Path.Combine(o.Device.StateDirectory, "transfers"),
        DeltaDirectory = Path.Combine(o.Device.StateDirectory, "deltas"),
        DeltaSigningKeyFile = Path.Combine(o.Device.StateDirectory, "device-key.pem"),
        HomeAssistantDiscovery = o.Mqtt.HomeAssistantDiscovery,
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var inferences = records.Subscribe("mqtt", 256);
        using var daemonEvents = events.Stream.Subscribe("mqtt", 256);
        _plane = new MqttControlPlane(MapOptions(options, broker), device, store, verifier, loggers, Program.Version);
        await _plane.StartAsync(stoppingToken).ConfigureAwait(false);
        var forwardEvents = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in daemonEvents.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
                    await _plane.PublishEventAsync(e.Kind, e.ToJson()).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var r in inferences.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
                _plane.PostTelemetry(r.ToJson());
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await forwardEvents.ConfigureAwait(false);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_plane is not null) await _plane.DisposeAsync().ConfigureAwait(false);
    }
}
