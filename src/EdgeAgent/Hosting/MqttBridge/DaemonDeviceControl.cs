using System.Text.Json.Nodes;
using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Learning;
using EdgeAgent.Daemon.Mqtt;
using EdgeAgent.Daemon.Reservoir;
using Microsoft.Extensions.Configuration;

namespace EdgeAgent.Daemon.Hosting.MqttBridge;

/// <summary>The MQTT layer's view of the daemon (<see cref="IDeviceControl"/>), answered by the daemon's own components.</summary>
internal sealed class DaemonDeviceControl(IStatusProvider status, IConfigurationRoot configuration, IReservoir reservoir, ILearningControl? learning = null) : IDeviceControl
{
    public JsonObject Status() => status.GetStatus().ToJson();

    public void WriteStatus(System.Text.Json.Utf8JsonWriter writer, string deviceId) => status.GetStatus().WriteProperties(writer, deviceId);

    public JsonNode? GetConfig(string? key)
    {
        var result = new JsonObject();
        foreach (var pair in configuration.AsEnumerable().Where(p => p.Value is not null).OrderBy(p => p.Key, StringComparer.OrdinalIgnoreCase))
            if (key is null || pair.Key.Equals(key, StringComparison.OrdinalIgnoreCase) || pair.Key.StartsWith(key + ":", StringComparison.OrdinalIgnoreCase))
                result[pair.Key] = pair.Value;
        if (key is not null && result.Count == 0) throw new CommandException($"no configuration key '{key}' is set");
        return result;
    }

    public JsonObject SetConfig(string key, JsonNode? value) =>
        throw new CommandException("config/set is not supported by this daemon build: edit /etc/edgeagent/edgeagent.json and restart");

    public async Task<JsonObject> LearnNowAsync(CancellationToken cancellationToken)
    {
        var learner = Learner();
        try
        {
            return (await learner.LearnNowAsync(cancellationToken).ConfigureAwait(false)).ToJson();
        }
        catch (InvalidOperationException e)
        {
            throw new CommandException(e.Message);
        }
    }

    public JsonObject PauseLearning() => Learner().Pause();

    public JsonObject ResumeLearning() => Learner().Resume();

    private ILearningControl Learner() => learning ?? throw new CommandException("this daemon has no on-device learner registered");

    public JsonObject Label(string? sampleId, string label)
    {
        if (string.IsNullOrWhiteSpace(label) || label.Length > 64) throw new CommandException("the class must be 1-64 characters");
        if (sampleId is null)
        {
            try
            {
                return new JsonObject { ["sample"] = reservoir.LabelLatest(label), ["class"] = label };
            }
            catch (InvalidOperationException e)
            {
                throw new CommandException(e.Message);
            }
        }
        if (!long.TryParse(sampleId, out long id)) throw new CommandException($"sample id '{sampleId}' is not a number");
        return reservoir.Label(id, label)
            ? new JsonObject { ["sample"] = id, ["class"] = label }
            : throw new CommandException($"sample {id} is not in the reservoir");
    }

    public JsonObject ReservoirStats()
    {
        var s = reservoir.GetStats();
        var perClass = new JsonObject();
        foreach (var (label, count) in s.PerClass.OrderBy(p => p.Key, StringComparer.Ordinal)) perClass[label] = count;
        return new JsonObject
        {
            ["unlabelled"] = s.Unlabelled, ["labelled"] = s.Labelled, ["held_out"] = s.HeldOut, ["seen"] = s.Seen,
            ["size_bytes"] = s.SizeBytes, ["quota_bytes"] = s.QuotaBytes, ["dropped"] = s.Dropped, ["per_class"] = perClass,
        };
    }
}
