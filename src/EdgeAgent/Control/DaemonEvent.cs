using System.Text.Json.Nodes;

namespace EdgeAgent.Daemon.Control;

/// <summary>
/// Something an operator wants to hear about (the MQTT <c>events</c> topic, the journal): a model change,
/// a learning result, an error. <see cref="Kind"/> is a stable dotted name such as <c>model.activated</c>.
/// </summary>
public sealed record DaemonEvent(DateTimeOffset Time, string Kind, string Message, JsonObject? Data = null)
{
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["time"] = Time.ToString("O"),
            ["kind"] = Kind,
            ["message"] = Message,
        };
        if (Data is not null) json["data"] = Data.DeepClone();
        return json;
    }
}

/// <summary>Where components report events; the MQTT client and the console subscribe to <see cref="EventHub"/>.</summary>
public interface IEventSink
{
    void Publish(DaemonEvent daemonEvent);
}

/// <summary>The daemon's one event stream.</summary>
public sealed class EventHub : IEventSink
{
    private readonly TimeProvider _time;

    public EventHub(TimeProvider time) => _time = time;

    public Broadcast<DaemonEvent> Stream { get; } = new();

    public void Publish(DaemonEvent daemonEvent) => Stream.Publish(daemonEvent);

    public void Publish(string kind, string message, JsonObject? data = null) =>
        Stream.Publish(new DaemonEvent(_time.GetUtcNow(), kind, message, data));
}
