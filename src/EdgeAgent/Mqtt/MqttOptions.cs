using EdgeAgent.Compression.Distribution;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>The <c>Mqtt</c> section of the daemon's configuration. Keys are named in errors as <c>Mqtt:Key</c>.</summary>
public sealed class MqttOptions
{
    public const string Section = "Mqtt";

    /// <summary><c>mqtt://HOST:PORT</c> or <c>mqtts://HOST:PORT</c>.</summary>
    public string Broker { get; set; } = "mqtt://127.0.0.1:1883";
    /// <summary>The <c>{d}</c> in every topic; the hostname when empty.</summary>
    public string DeviceId { get; set; } = "";
    /// <summary>"auto" (MQTT 5, falling back to 3.1.1 when the broker refuses 5), "5" or "3.1.1".</summary>
    public string ProtocolVersion { get; set; } = "auto";
    public string? Username { get; set; }
    /// <summary>A file holding the password (first line); kept out of the config so the config can be world-readable.</summary>
    public string? PasswordFile { get; set; }
    /// <summary>PEM CA certificate(s) that sign the broker's certificate; the system store when empty.</summary>
    public string? CaFile { get; set; }
    /// <summary>PEM client certificate and key for brokers that authenticate devices by certificate (AWS IoT Core).</summary>
    public string? ClientCertFile { get; set; }
    public string? ClientKeyFile { get; set; }
    /// <summary>The TLS server name when it differs from the broker host (connecting by IP address).</summary>
    public string? TlsServerName { get; set; }
    public int KeepAliveSeconds { get; set; } = 30;
    /// <summary>How long the broker keeps our session (subscriptions, queued QoS 1 messages) while we are away.</summary>
    public int SessionExpirySeconds { get; set; } = 7 * 24 * 3600;
    public int ReconnectMinMs { get; set; } = 500;
    public int ReconnectMaxMs { get; set; } = 60_000;
    public string[] FleetGroups { get; set; } = [];
    /// <summary>Telemetry is batched and sent at most once per interval.</summary>
    public int TelemetryIntervalMs { get; set; } = 1000;
    public int TelemetryBatchMax { get; set; } = 200;
    public int StatusIntervalSeconds { get; set; } = 60;
    /// <summary>Requests larger than this are refused before they are parsed.</summary>
    public int MaxCommandBytes { get; set; } = 16 * 1024;
    /// <summary>Where offline telemetry and events wait (LiteDB), and how many messages it holds before dropping the oldest.</summary>
    public string OutboxPath { get; set; } = "/var/lib/edgeagent/outbox.db";
    public int OutboxCapacity { get; set; } = 10_000;
    /// <summary>Where model transfers are reassembled; survives restarts so transfers resume.</summary>
    public string TransferDirectory { get; set; } = "/var/lib/edgeagent/transfers";
    /// <summary>Where signed weight deltas wait until the broker acknowledged them (see <see cref="DeltaPublisher"/>).</summary>
    public string DeltaDirectory { get; set; } = "/var/lib/edgeagent/deltas";
    /// <summary>The device's P-256 key that signs its deltas; generated on first use when missing. Empty: no deltas are published.</summary>
    public string? DeltaSigningKeyFile { get; set; }
    public bool HomeAssistantDiscovery { get; set; }
    public string HomeAssistantPrefix { get; set; } = "homeassistant";

    public string ResolvedDeviceId => string.IsNullOrEmpty(DeviceId) ? Environment.MachineName : DeviceId;

    public BrokerAddress BrokerAddress => BrokerAddress.Parse(Broker);

    /// <summary>Fails fast at start-up with the key that is wrong and why.</summary>
    public void Validate()
    {
        void Fail(string key, string reason) => throw new MqttOptionsException($"{Section}:{key}: {reason}");
        try { _ = BrokerAddress; }
        catch (TransferException e) { Fail(nameof(Broker), e.Message); }
        try { TransferTopics.Segment(ResolvedDeviceId, "device id"); }
        catch (TransferException e) { Fail(nameof(DeviceId), e.Message); }
        foreach (string group in FleetGroups)
        {
            try { TransferTopics.Segment(group, "fleet group"); }
            catch (TransferException e) { Fail(nameof(FleetGroups), e.Message); }
        }
        if (ProtocolVersion is not ("auto" or "5" or "3.1.1")) Fail(nameof(ProtocolVersion), $"'{ProtocolVersion}' is not one of auto, 5, 3.1.1");
        if (PasswordFile is not null && Username is null) Fail(nameof(PasswordFile), "is set but Mqtt:Username is not");
        foreach (var (key, path) in new[] { (nameof(PasswordFile), PasswordFile), (nameof(CaFile), CaFile), (nameof(ClientCertFile), ClientCertFile), (nameof(ClientKeyFile), ClientKeyFile) })
            if (path is not null && !File.Exists(path)) Fail(key, $"file '{path}' does not exist");
        if ((ClientCertFile is null) != (ClientKeyFile is null)) Fail(ClientCertFile is null ? nameof(ClientCertFile) : nameof(ClientKeyFile), "client certificate and key must be given together");
        if ((CaFile ?? ClientCertFile) is not null && !BrokerAddress.Tls) Fail(nameof(Broker), "TLS files are configured but the broker is mqtt://, not mqtts://");
        if (KeepAliveSeconds is < 5 or > 3600) Fail(nameof(KeepAliveSeconds), $"{KeepAliveSeconds} is outside 5..3600");
        if (SessionExpirySeconds < 0) Fail(nameof(SessionExpirySeconds), "must not be negative");
        if (ReconnectMinMs is < 10 or > 60_000) Fail(nameof(ReconnectMinMs), $"{ReconnectMinMs} is outside 10..60000");
        if (ReconnectMaxMs < ReconnectMinMs || ReconnectMaxMs > 3_600_000) Fail(nameof(ReconnectMaxMs), $"{ReconnectMaxMs} is outside Mqtt:ReconnectMinMs..3600000");
        if (TelemetryIntervalMs is < 10 or > 3_600_000) Fail(nameof(TelemetryIntervalMs), $"{TelemetryIntervalMs} is outside 10..3600000");
        if (TelemetryBatchMax is < 1 or > 10_000) Fail(nameof(TelemetryBatchMax), $"{TelemetryBatchMax} is outside 1..10000");
        if (StatusIntervalSeconds is < 1 or > 86_400) Fail(nameof(StatusIntervalSeconds), $"{StatusIntervalSeconds} is outside 1..86400");
        if (MaxCommandBytes is < 256 or > 1 << 20) Fail(nameof(MaxCommandBytes), $"{MaxCommandBytes} is outside 256..1048576");
        if (OutboxCapacity is < 1 or > 10_000_000) Fail(nameof(OutboxCapacity), $"{OutboxCapacity} is outside 1..10000000");
        if (string.IsNullOrWhiteSpace(OutboxPath)) Fail(nameof(OutboxPath), "is empty");
        if (string.IsNullOrWhiteSpace(TransferDirectory)) Fail(nameof(TransferDirectory), "is empty");
        if (string.IsNullOrWhiteSpace(DeltaDirectory)) Fail(nameof(DeltaDirectory), "is empty");
        try { TransferTopics.Segment(HomeAssistantPrefix, "Home Assistant prefix"); }
        catch (TransferException e) { Fail(nameof(HomeAssistantPrefix), e.Message); }
    }
}

public sealed class MqttOptionsException(string message) : Exception(message);
