using LiteDB;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>
/// Store and forward: telemetry and events produced while the broker is unreachable wait here (LiteDB, BsonDocument
/// API only: the typed mapper relies on reflection NativeAOT cannot keep) and are sent in order at QoS 1 on reconnect.
/// The queue is bounded; past the bound the oldest messages are dropped and the drop is counted persistently, so
/// a long outage costs old data, never memory or disk, and the loss is visible in the status.
/// </summary>
public sealed class Outbox : IDisposable
{
    private const string MessagesName = "outbox";
    private const string MetaName = "outbox_meta";
    private readonly LiteDatabase _db;
    private readonly ILiteCollection<BsonDocument> _messages;
    private readonly ILiteCollection<BsonDocument> _meta;
    private readonly Lock _gate = new();
    // Counted here rather than by LiteDB: Count() runs a query (parse, plan, scan of the _id index), and the publisher
    // asks on every telemetry batch whether anything waits.
    private int _count;
    // Also kept in memory (the meta document is its durable copy): the retained status reads it every minute, and a
    // LiteDB FindById costs ~6 KB of allocation each time.
    private long _dropped;

    public int Capacity { get; }

    public Outbox(string path, int capacity)
    {
        if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), capacity, "outbox capacity must be at least 1");
        Capacity = capacity;
        string? directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null) Directory.CreateDirectory(directory);
        _db = new LiteDatabase(new ConnectionString { Filename = path, Connection = ConnectionType.Direct });
        _messages = _db.GetCollection(MessagesName, BsonAutoId.Int64);
        _meta = _db.GetCollection(MetaName);
        _count = _messages.Count();
        _dropped = _meta.FindById("dropped")?["n"].AsInt64 ?? 0;
    }

    public int Count { get { lock (_gate) return _count; } }

    /// <summary>Messages dropped because the queue was full, over the queue's whole life.</summary>
    public long Dropped
    {
        get { lock (_gate) return _dropped; }
    }

    public void Enqueue(string topic, ReadOnlySpan<byte> payload, bool retain = false)
    {
        lock (_gate)
        {
            int excess = _count - Capacity + 1;
            if (excess > 0)
            {
                foreach (var oldest in _messages.Find(Query.All("_id", Query.Ascending), limit: excess).ToList())
                    if (_messages.Delete(oldest["_id"])) _count--;
                _meta.Upsert(new BsonDocument { ["_id"] = "dropped", ["n"] = _dropped + excess });
                _dropped += excess;
            }
            _messages.Insert(new BsonDocument
            {
                ["t"] = topic,
                ["p"] = new BsonValue(payload.ToArray()),
                ["r"] = retain,
                ["ts"] = DateTime.UtcNow,
            });
            _count++;
        }
    }

    /// <summary>The oldest <paramref name="max"/> messages, without removing them.</summary>
    public IReadOnlyList<(long Id, OutboundMessage Message)> Peek(int max)
    {
        lock (_gate)
            return _messages.Find(Query.All("_id", Query.Ascending), limit: max)
                .Select(d => (d["_id"].AsInt64, new OutboundMessage(d["t"].AsString, d["p"].AsBinary, Qos: 1, Retain: d["r"].AsBoolean)))
                .ToList();
    }

    public void Remove(long id)
    {
        lock (_gate)
            if (_messages.Delete(id)) _count--;
    }

    /// <summary>
    /// Sends everything queued, oldest first, removing each message only once the broker acknowledged it; stops at the
    /// first failure (we went offline again) so nothing is lost or reordered. Returns how many were sent.
    /// </summary>
    public async Task<int> DrainAsync(Func<OutboundMessage, Task<bool>> publish, CancellationToken cancellationToken)
    {
        int sent = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var batch = Peek(64);
            if (batch.Count == 0) break;
            foreach (var (id, message) in batch)
            {
                if (!await publish(message).ConfigureAwait(false)) return sent;
                Remove(id);
                sent++;
            }
        }
        return sent;
    }

    public void Dispose() => _db.Dispose();
}
