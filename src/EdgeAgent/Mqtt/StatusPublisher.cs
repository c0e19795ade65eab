using System.Text;
using System.Text.Json.Nodes;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>
/// The retained <c>edgeagent/{d}/status</c>: the device's own status plus what the control plane knows (online,
/// protocol, transfer, outbox). Republished on every connect, on model changes and periodically; the connection's
/// last will replaces it with <c>{"online": false}</c> when the device drops off.
/// </summary>
public sealed class StatusPublisher(MqttConnection connection, IDeviceControl device, Func<JsonObject?> transfer, Func<Outbox> outbox,
    Func<long> telemetryDropped)
{
    public JsonObject Snapshot()
    {
        var status = device.Status();
        status["online"] = true;
        status["device"] = connection.Topics.DeviceId;
        status["protocol"] = connection.Protocol;
        status["reconnects"] = connection.Reconnects;
        status["transfer"] = transfer();
        var box = outbox();
        status["outbox"] = new JsonObject { ["queued"] = box.Count, ["dropped"] = box.Dropped, ["capacity"] = box.Capacity };
        status["telemetry_dropped"] = telemetryDropped();
        return status;
    }

    public Task<bool> PublishAsync(CancellationToken cancellationToken = default) =>
        connection.PublishAsync(new OutboundMessage(connection.Topics.Status, Encoding.UTF8.GetBytes(Snapshot().ToJsonString()), Qos: 1, Retain: true),
            cancellationToken);

    public async Task RunAsync(TimeSpan interval, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
                await PublishAsync(stopping).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested) { }
    }
}
