namespace EdgeAgent.Daemon.Sensors.Topics;

/// <summary>Routes MQTT messages to the <see cref="TopicSensorSource"/>s whose topic (filter) matches.</summary>
public sealed class TopicReadingRouter(IReadOnlyList<TopicSensorSource> sources) : ITopicReadingRouter
{
    public IReadOnlyList<string> Topics { get; } = sources.Select(s => s.Topic).Distinct().ToArray();

    public bool Deliver(string topic, ReadOnlySpan<byte> payload, out string? error)
    {
        error = null;
        bool delivered = false;
        foreach (var source in sources)
        {
            if (!Matches(source.Topic, topic)) continue;
            if (source.Accept(payload, out var sourceError)) delivered = true;
            else error = sourceError;
        }
        if (!delivered && error is null) error = $"no mqtt sensor is configured for topic '{topic}'";
        return delivered;
    }

    /// <summary>MQTT topic filter matching: <c>+</c> is one level, a trailing <c>#</c> any number of levels.</summary>
    public static bool Matches(string filter, string topic)
    {
        var f = filter.Split('/');
        var t = topic.Split('/');
        for (int i = 0; i < f.Length; i++)
        {
            if (f[i] == "#") return i == f.Length - 1;
            if (i >= t.Length) return false;
            if (f[i] != "+" && f[i] != t[i]) return false;
        }
        return f.Length == t.Length;
    }
}
