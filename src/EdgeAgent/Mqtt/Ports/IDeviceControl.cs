using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>
/// What the control plane may ask of the rest of the daemon. Kept narrow so the MQTT layer never reaches into the
/// pipeline directly: each call is cheap or hands work to the daemon's own threads. Refusals throw
/// <see cref="CommandException"/> with a message for the caller.
/// </summary>
public interface IDeviceControl
{
    /// <summary>Version, model name and version, uptime, kernel path, rates, last update, health.</summary>
    JsonObject Status();

    /// <summary>
    /// <see cref="Status"/>'s properties written into the object <paramref name="writer"/> has open, with <c>device</c>
    /// set to <paramref name="deviceId"/> (the retained status, every minute: an implementation that can write them
    /// without building the object spares that allocation).
    /// </summary>
    void WriteStatus(Utf8JsonWriter writer, string deviceId)
    {
        var status = Status();
        status["device"] = deviceId;
        foreach (var (name, value) in status)
        {
            writer.WritePropertyName(name);
            if (value is null) writer.WriteNullValue();
            else value.WriteTo(writer);
        }
    }
    /// <summary>The whole configuration, or the one key (colon-separated path) asked for.</summary>
    JsonNode? GetConfig(string? key);
    /// <summary>Validates, persists and (where possible) applies one key; the result says whether a restart is needed.</summary>
    JsonObject SetConfig(string key, JsonNode? value);
    Task<JsonObject> LearnNowAsync(CancellationToken cancellationToken);
    JsonObject PauseLearning();
    JsonObject ResumeLearning();
    /// <summary>Labels a stored sample, or the most recent window when <paramref name="sampleId"/> is null.</summary>
    JsonObject Label(string? sampleId, string label);
    JsonObject ReservoirStats();
}
