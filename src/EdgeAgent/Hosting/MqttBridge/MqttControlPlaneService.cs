using EdgeAgent.Daemon.Configuration;
using EdgeAgent.Daemon.Control;
using System.Text.Json.Nodes;
using EdgeAgent.Daemon.Inference;
using EdgeAgent.Daemon.Learning;
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
    Broadcast<InferenceRecord> records, EventHub events, ILoggerFactory loggers, EmbeddedBrokerService embedded, BrokerTraffic traffic) : BackgroundService
{
    // Subscribed at construction (before any hosted service starts), so the model.activated event of start-up and
    // the first inferences reach the broker too (queued until the connection is up).
    private readonly Broadcast<InferenceRecord>.Subscription _inferences = records.Subscribe("mqtt", 256);
    private readonly Broadcast<DaemonEvent>.Subscription _events = events.Stream.Subscribe("mqtt", 256);
    private readonly ILogger _logger = loggers.CreateLogger("EdgeAgent.Mqtt.Deltas");
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
        // One key per device: the learner's, which also signs the versions it learns (see Learning/DeviceSigningKey).
        DeltaSigningKeyFile = Path.Combine(o.Device.StateDirectory, "learning", DeviceSigningKey.PrivateKeyFile),
        HomeAssistantDiscovery = o.Mqtt.HomeAssistantDiscovery,
    };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var inferences = _inferences;
        var daemonEvents = _events;
        // The embedded broker started before this service (registration order), so its server is up when there is one.
        _plane = new MqttControlPlane(MapOptions(options, broker), device, store, verifier, loggers, Program.Version, embedded.Server, embedded.Subscriptions);
        // The daemon's own messages as handed to the embedded broker (other clients' are counted as it receives them).
        if (_plane.Connection.InProcess is { } inProcess) inProcess.Publishing += traffic.Add;
        await _plane.StartAsync(stoppingToken).ConfigureAwait(false);
        var forwardEvents = Task.Run(async () =>
        {
            try
            {
                // Waits without a token (see Broadcast.Subscription.CompleteOn): no waiter object per event.
                using var stop = daemonEvents.CompleteOn(stoppingToken);
                await foreach (var e in daemonEvents.Reader.ReadAllAsync().ConfigureAwait(false))
                {
                    await _plane.PublishEventAsync(e.Kind, e.ToJson()).ConfigureAwait(false);
                    if (e.Kind == LearningEvents.Accepted) await PublishDeltaAsync(_plane, e, stoppingToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
        }, CancellationToken.None);
        try
        {
            using var stop = inferences.CompleteOn(stoppingToken);
            await foreach (var r in inferences.Reader.ReadAllAsync().ConfigureAwait(false))
                _plane.PostTelemetry(r);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await forwardEvents.ConfigureAwait(false);
    }

    /// <summary>
    /// An accepted on-device update becomes a signed delta for the fleet aggregator. A delta that cannot be made (the
    /// update grew the head by a class, the base left the store) is reported, never fatal: the update itself stands.
    /// </summary>
    private async Task PublishDeltaAsync(MqttControlPlane plane, DaemonEvent accepted, CancellationToken cancellationToken)
    {
        var data = accepted.Data;
        string? basePath = (string?)data?["base_bundle"], updatedPath = (string?)data?["bundle"];
        try
        {
            if (basePath is null || updatedPath is null)
                throw new ArgumentException($"the {LearningEvents.Accepted} event carries no base_bundle/bundle paths");
            var samples = new Dictionary<string, long>(StringComparer.Ordinal);
            if (data!["per_class"] is JsonObject perClass)
                foreach (var (label, count) in perClass)
                    samples[label] = Count(label, count);
            await plane.Deltas.PublishAsync(basePath, updatedPath, samples, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            _logger.LogWarning("no weight delta for the update {Base} -> {Version}: {Error}", (string?)data?["base_version"], (string?)data?["version"], e.Message);
            await plane.PublishEventAsync("learn/delta-failed", new JsonObject
            {
                ["base_version"] = (string?)data?["base_version"],
                ["version"] = (string?)data?["version"],
                ["reason"] = e.Message,
            }).ConfigureAwait(false);
        }
    }

    // The learner writes counts as int; an event read back from JSON holds them as long.
    private static long Count(string label, JsonNode? node)
    {
        if (node is JsonValue value)
        {
            if (value.TryGetValue(out long count)) return count;
            if (value.TryGetValue(out int small)) return small;
        }
        throw new ArgumentException($"per_class['{label}'] is not a sample count: {node?.ToJsonString() ?? "null"}");
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (_plane is not null) await _plane.DisposeAsync().ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _inferences.Dispose();
        _events.Dispose();
        base.Dispose();
    }
}
