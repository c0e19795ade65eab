using System.Collections.Concurrent;

namespace EdgeAgent.Daemon.Hosting;

/// <summary>
/// What reached the embedded broker, per topic: the demo's summary reports what the daemon actually published
/// (as the broker saw it, not as the client meant to send it). Bounded by the number of topics, which is small
/// and fixed by the topic layout.
/// </summary>
public sealed class BrokerTraffic
{
    private const int MaxTopics = 256;
    private readonly ConcurrentDictionary<string, Counter> _topics = new(StringComparer.Ordinal);

    public sealed class Counter
    {
        internal long MessagesField;
        internal long BytesField;
        public long Messages => Interlocked.Read(ref MessagesField);
        public long Bytes => Interlocked.Read(ref BytesField);
    }

    public void Add(string topic, long bytes)
    {
        if (!_topics.TryGetValue(topic, out var counter))
        {
            // A client publishing to ever new topics must not grow this table without bound.
            if (_topics.Count >= MaxTopics) topic = "(other topics)";
            counter = _topics.GetOrAdd(topic, _ => new Counter());
        }
        Interlocked.Increment(ref counter.MessagesField);
        Interlocked.Add(ref counter.BytesField, bytes);
    }

    /// <summary>Topics with their counts, most messages first.</summary>
    public IReadOnlyList<(string Topic, long Messages, long Bytes)> Snapshot() =>
        _topics.Select(kv => (kv.Key, kv.Value.Messages, kv.Value.Bytes))
            .OrderByDescending(t => t.Messages).ThenBy(t => t.Key, StringComparer.Ordinal).ToArray();
}
