using System.Runtime.InteropServices;
using System.Threading.Channels;
using LiteDB;

namespace EdgeAgent.Daemon.Reservoir;

/// <summary>
/// <see cref="IReservoir"/> on LiteDB through its <see cref="BsonDocument"/> API only (the typed mapper uses
/// reflection that NativeAOT cannot keep). Three collections:
/// <c>unlabelled</c> (<c>_id</c> = Algorithm R slot), <c>labelled</c> (<c>_id</c> = sample id) and <c>meta</c>.
/// Every change is one LiteDB transaction, committed through its write-ahead log, so <c>kill -9</c> loses at
/// most the write in flight. Writes of sampled windows happen on <see cref="RunWriterAsync"/>'s thread;
/// <see cref="Offer"/> only decides and copies.
/// Memory: LiteDB's page cache only grows (<see cref="CheckpointPages"/>), so the reservoir keeps what it reads
/// small: the counts it needs at start-up are in the <c>meta</c> document (no scan of the samples after a clean
/// stop, see <see cref="SaveMeta"/>), the write-ahead log is checkpointed every <see cref="CheckpointPages"/> pages
/// (a checkpoint hands every cached page back to the cache's free list) and a full read (the learner's) reopens the
/// database afterwards so the pages it cached go back to the GC.
/// </summary>
public sealed class LiteDbReservoir : IReservoir, IDisposable
{
    private const int SchemaVersion = 1;
    private const string Unlabelled = "unlabelled";
    private const string Labelled = "labelled";
    private const string Meta = "meta";
    private const string EmbeddingTypeField = "embeddingType";
    private const string HalfEmbedding = "f16";

    private readonly ReservoirSettings _settings;
    private readonly TimeProvider _time;
    // LiteDB 5's page cache never returns memory: when its free list is empty it allocates a new segment (12, 50,
    // 100, 500, then 1000 pages of 8 KB) unless more than that many cached pages are idle. Committed pages are
    // cached at their log position until a checkpoint clears the cache, so the default checkpoint (1000 log
    // pages, ~100 samples of a 1 MB model) grows the cache to ~13 MB. Checkpointing every 32 log pages (~10
    // samples of the bench model, three pages each) bounds what the cache must hold between two clears to those
    // pages plus the data and index pages the writes read, so it stops growing after its first few (small)
    // segments. The count is in pages, not samples: at 48, right while a sample also rewrote the meta document
    // (four to five pages a sample), samples without it went ~16 to a checkpoint, reads enough for the cache to take
    // a larger segment after each start (~54 KB per stored window over the first 32 writes against ~28 KB at 32
    // pages, measured alike; the same ~28-29 KB over 300 writes).
    public const int CheckpointPages = 32;

    private LiteDatabase _db = null!;
    private ILiteCollection<BsonDocument> _unlabelled = null!;
    private ILiteCollection<BsonDocument> _labelled = null!;
    private ILiteCollection<BsonDocument> _meta = null!;
    // The documents a write reuses (under _dbGate): LiteDB serialises a document into its pages during a write
    // and keeps no reference to it or its arrays, so only the scalar values are new per write.
    private readonly BsonDocument _sampleDocument = new();
    private readonly BsonDocument _metaDocument = new();
    private byte[] _windowBytes = [];
    private byte[] _embeddingBytes = [];
    private byte[] _embeddingHalfBytes = [];
    // What the writer's own thread allocated for the unlabelled writes (LiteDB's transaction, pages, index nodes):
    // the daemon's status reports it so that the cost of a stored window is told apart from the rest of the process.
    private long _writtenWindows;
    // The sample id each unlabelled slot holds (0: none), for Label(sampleId), the one lookup by sample id. LiteDB's
    // unique index on sid cost ~17 KB of allocation per stored window (its skip-list nodes read and rewritten on every
    // replacement: ~40 % of a write) to serve a command sent by hand. Made by one scan the first time a sample is
    // labelled by id, then kept by every change (under _dbGate); null until then.
    private long[]? _slotSids;
    private long _writeAllocatedBytes;
    private BsonDocument _perClassDocument = new();
    private BsonDocument _heldOutDocument = new();
    private bool _classDocumentsStale = true;
    private readonly FileInfo _dataFile;
    private readonly FileInfo _logFile;
    private readonly object _dbGate = new();
    private readonly object _latestGate = new();
    private readonly Channel<PendingSample> _writes;
    // Kept windows travel to the writer in recycled buffers, created on demand up to what the write queue can hold
    // plus the one being written and the one being filled; so Offer allocates nothing once the writer has been as
    // far behind as it gets, and memory stays bounded by the queue.
    private readonly PendingSamplePool _pending;
    private int _primedWindowLength = -1;
    private int _primedEmbeddingLength = -1;
    private readonly Random _offerRandom;
    private readonly Random _labelRandom;
    private readonly Dictionary<string, long> _perClass = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _heldOutPerClass = new(StringComparer.Ordinal);
    private long _seen;
    private long _nextSid;
    private long _unlabelledCount;
    private long _dropped;
    private long _labelsAdded;
    private bool _quotaReached;
    private bool _disposed;

    private float[] _latestWindow = [];
    private float[] _latestEmbedding = [];
    private ReservoirOffer? _latestOffer;

    public LiteDbReservoir(ReservoirSettings settings, TimeProvider? time = null)
    {
        _settings = settings;
        _time = time ?? TimeProvider.System;
        string? directory = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(settings.Path));
        if (directory is not null) Directory.CreateDirectory(directory);
        _dataFile = new FileInfo(settings.Path);
        _logFile = new FileInfo(LogPath(settings.Path));
        Open();
        _pending = new PendingSamplePool(settings.WriteQueue + 2);
        _writes = Channel.CreateBounded<PendingSample>(new BoundedChannelOptions(settings.WriteQueue)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            SingleReader = true,
        }, dropped =>
        {
            Interlocked.Increment(ref _dropped);
            _pending.Return(dropped);
        });
        if (!LoadState()) DropCache(collect: true); // the samples were scanned: their pages are cached
        _offerRandom = new Random(HashCode.Combine(settings.Seed, _seen));
        _labelRandom = new Random(HashCode.Combine(settings.Seed, _nextSid, 17));
    }

    public string Path => _settings.Path;

    /// <summary>Pending samples made so far (they are made as the writer first falls that far behind; for tests).</summary>
    internal int PendingSamplesCreated => _pending.Created;

    private void Open()
    {
        try
        {
            _db = new LiteDatabase(new ConnectionString { Filename = _settings.Path, Connection = ConnectionType.Direct });
        }
        catch (LiteException e)
        {
            throw new IOException($"reservoir '{_settings.Path}' cannot be opened: {e.Message}", e);
        }
        _unlabelled = _db.GetCollection(Unlabelled);
        _labelled = _db.GetCollection(Labelled);
        _meta = _db.GetCollection(Meta);
        // No index on sid: see _slotSids. A database from before keeps one, which every write would still update.
        _unlabelled.DropIndex("sid");
        if (_db.CheckpointSize != CheckpointPages) _db.CheckpointSize = CheckpointPages;
    }

    /// <summary>
    /// Closes and reopens the database (under <c>_dbGate</c>), which drops LiteDB's page cache. After a scan of
    /// every sample (an old database's first start-up, the learner's reads) that cache holds thousands of pages in
    /// multi-MB arrays on the large-object heap, which only a full collection returns; <paramref name="collect"/>
    /// asks for one then.
    /// </summary>
    private void DropCache(bool collect)
    {
        _db.Checkpoint();
        _db.Dispose();
        Open();
        if (collect) GC.Collect(GC.MaxGeneration, GCCollectionMode.Default, blocking: true, compacting: true);
    }

    public long LabelsAdded => Interlocked.Read(ref _labelsAdded);

    /// <summary>Windows offered over the reservoir's whole life (persisted with each write).</summary>
    public long Seen => Interlocked.Read(ref _seen);

    public void Offer(in ReservoirOffer offer, ReadOnlySpan<float> window, ReadOnlySpan<float> embedding)
    {
        lock (_latestGate)
        {
            if (_latestWindow.Length != window.Length) _latestWindow = new float[window.Length];
            if (_latestEmbedding.Length != embedding.Length) _latestEmbedding = new float[embedding.Length];
            window.CopyTo(_latestWindow);
            embedding.CopyTo(_latestEmbedding);
            _latestOffer = offer;
        }
        if (window.Length != _primedWindowLength || embedding.Length != _primedEmbeddingLength)
        {
            // The first offer of a model's shape (inference thread, start-up): one pending sample made now, not on the
            // first kept window in steady state.
            _pending.Prime(window.Length, embedding.Length);
            (_primedWindowLength, _primedEmbeddingLength) = (window.Length, embedding.Length);
        }
        // Algorithm R (Vitter 1985): the n-th item replaces a uniformly chosen slot with probability k/n,
        // which keeps every item seen so far in the reservoir with equal probability.
        long n = Interlocked.Increment(ref _seen);
        long slot;
        if (n <= _settings.Capacity) slot = n - 1;
        else
        {
            slot = _offerRandom.NextInt64(n);
            if (slot >= _settings.Capacity) return;
        }
        if (Volatile.Read(ref _quotaReached) && slot >= Interlocked.Read(ref _unlabelledCount)) { Interlocked.Increment(ref _dropped); return; }
        var pending = _pending.TryRent(window.Length, embedding.Length);
        if (pending is null) { Interlocked.Increment(ref _dropped); return; } // the writer is behind by the whole budget
        pending.Fill((int)slot, Interlocked.Increment(ref _nextSid), n, offer, window, embedding, _time.GetUtcNow());
        if (!_writes.Writer.TryWrite(pending)) _pending.Return(pending); // the channel is completed: disposing
    }

    /// <summary>Writes queued samples until cancelled, then drains what is left (the daemon's reservoir loop).</summary>
    public async Task RunWriterAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await _writes.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
                while (_writes.Reader.TryRead(out var pending)) WriteAndRecycle(pending);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        Flush();
    }

    /// <summary>Writes every queued sample now; used at shutdown and by tests.</summary>
    public int Flush()
    {
        int written = 0;
        while (_writes.Reader.TryRead(out var pending))
        {
            WriteAndRecycle(pending);
            written++;
        }
        return written;
    }

    private void WriteAndRecycle(PendingSample pending)
    {
        try
        {
            WriteUnlabelled(pending);
        }
        finally
        {
            _pending.Return(pending);
        }
    }

    public long LabelLatest(string label)
    {
        PendingSample sample;
        lock (_latestGate)
        {
            if (_latestOffer is not { } offer) throw new InvalidOperationException("no window has been inferred yet; nothing to label");
            sample = new PendingSample(_latestWindow.Length, _latestEmbedding.Length);
            sample.Fill(-1, Interlocked.Increment(ref _nextSid), Interlocked.Read(ref _seen), offer, _latestWindow, _latestEmbedding, _time.GetUtcNow());
        }
        lock (_dbGate)
        {
            InsertLabelled(ToDocument(sample), label);
        }
        return sample.Sid;
    }

    public bool Label(long sampleId, string label)
    {
        lock (_dbGate)
        {
            var labelled = _labelled.FindById(sampleId);
            if (labelled is not null)
            {
                string old = labelled["label"].AsString;
                if (old == label) return true;
                bool heldOut = labelled["heldOut"].AsBoolean;
                labelled["label"] = label;
                labelled["labelledAt"] = _time.GetUtcNow().UtcDateTime;
                Adjust(_perClass, old, -1);
                Adjust(_perClass, label, +1);
                if (heldOut)
                {
                    Adjust(_heldOutPerClass, old, -1);
                    Adjust(_heldOutPerClass, label, +1);
                }
                InTransaction(labelled, static (r, doc) =>
                {
                    r._labelled.Update(doc);
                    r.SaveMeta(closing: false);
                    return true;
                });
                Interlocked.Increment(ref _labelsAdded);
                return true;
            }
            var slots = SlotSids();
            int slot = Array.IndexOf(slots, sampleId);
            if (sampleId <= 0 || slot < 0) return false;
            var unlabelled = _unlabelled.FindById(slot);
            if (unlabelled is null || unlabelled["sid"].AsInt64 != sampleId)
                throw new InvalidOperationException($"reservoir '{_settings.Path}': slot {slot} does not hold sample {sampleId} as recorded");
            InTransaction((Doc: unlabelled, Label: label), static (r, s) =>
            {
                r._unlabelled.Delete(s.Doc["_id"]);
                s.Doc.Remove("_id");
                r.InsertLabelledInTransaction(s.Doc, s.Label);
                return true;
            });
            slots[slot] = 0;
            Interlocked.Decrement(ref _unlabelledCount);
            Interlocked.Increment(ref _labelsAdded);
            return true;
        }
    }

    public IReadOnlyList<ReservoirSample> ReadLabelled(bool heldOut, int max = int.MaxValue)
    {
        lock (_dbGate)
        {
            var samples = _labelled.Find(Query.EQ("heldOut", heldOut)).Take(max).Select(FromDocument).ToArray();
            DropCache(collect: true);
            return samples;
        }
    }

    public IReadOnlyList<ReservoirSample> ReadUnlabelled(int max = int.MaxValue)
    {
        lock (_dbGate)
        {
            var samples = _unlabelled.FindAll().Select(FromDocument).OrderByDescending(s => s.StoredAt).Take(max).ToArray();
            DropCache(collect: true);
            return samples;
        }
    }

    public ReservoirStats GetStats()
    {
        lock (_dbGate)
        {
            long labelled = _perClass.Values.Sum();
            return new ReservoirStats(
                Interlocked.Read(ref _unlabelledCount),
                labelled,
                _heldOutPerClass.Values.Sum(),
                Interlocked.Read(ref _seen),
                DiskBytes(),
                _settings.QuotaBytes,
                new Dictionary<string, long>(_perClass),
                Interlocked.Read(ref _dropped),
                _writtenWindows,
                _writeAllocatedBytes);
        }
    }

    public ReservoirCounters GetCounters()
    {
        lock (_dbGate)
        {
            long labelled = 0;
            foreach (long count in _perClass.Values) labelled += count; // the collection's struct enumerator: no box
            return new ReservoirCounters(Interlocked.Read(ref _unlabelledCount), labelled, Interlocked.Read(ref _seen), _writtenWindows, _writeAllocatedBytes);
        }
    }

    public IReadOnlyList<string> CheckConsistency()
    {
        var problems = new List<string>();
        lock (_dbGate)
        {
            var meta = _meta.FindById("state");
            // The state in memory is what the next writes build on (the meta document is complete only after a close).
            long nextSid = Interlocked.Read(ref _nextSid);
            var sids = new HashSet<long>();
            long unlabelled = 0;
            foreach (var doc in _unlabelled.FindAll())
            {
                unlabelled++;
                string where = $"unlabelled slot {doc["_id"]}";
                CheckSample(doc, where, problems, sids, nextSid);
                if (!doc["_id"].IsInt32 || doc["_id"].AsInt32 < 0 || doc["_id"].AsInt32 >= _settings.Capacity)
                    problems.Add($"{where}: slot outside [0, {_settings.Capacity})");
            }
            var counts = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var doc in _labelled.FindAll())
            {
                string where = $"labelled sample {doc["_id"]}";
                CheckSample(doc, where, problems, sids, nextSid);
                if (!doc["label"].IsString || doc["label"].AsString.Length == 0) problems.Add($"{where}: no label");
                else Adjust(counts, doc["label"].AsString, 1);
                if (!doc["heldOut"].IsBoolean) problems.Add($"{where}: heldOut is not a boolean");
                if (doc["_id"].AsInt64 != doc["sid"].AsInt64) problems.Add($"{where}: _id and sid differ");
            }
            if (counts.Values.Sum() > _settings.LabelledCapacity)
                problems.Add($"labelled: {counts.Values.Sum()} samples exceed the capacity of {_settings.LabelledCapacity}");
            if (meta is not null && meta["schema"].AsInt32 != SchemaVersion)
                problems.Add($"meta: schema {meta["schema"]} is not {SchemaVersion}");
            if (meta is null) problems.Add("meta: no state document (every open writes one)");
            else if (meta["nextSid"].AsInt64 > nextSid || meta["seen"].AsInt64 > Interlocked.Read(ref _seen))
                problems.Add($"meta: records next id {meta["nextSid"]} and {meta["seen"]} windows seen, ahead of the open reservoir's {nextSid} and {Interlocked.Read(ref _seen)}");
            long counted = Interlocked.Read(ref _unlabelledCount);
            if (counted != unlabelled) problems.Add($"state: counts {counted} unlabelled samples, the collection holds {unlabelled}");
            // Per-class counts: the meta document's (written in every labelled change's transaction) and the open
            // reservoir's must both be what the collection holds.
            if (meta is not null && meta["perClass"].IsDocument) CompareClassCounts("meta", meta["perClass"].AsDocument.ToDictionary(p => p.Key, p => p.Value.AsInt64), counts, problems);
            CompareClassCounts("state", _perClass, counts, problems);
            DropCache(collect: true); // the scan cached every sample's pages
        }
        return problems;
    }

    private static void CompareClassCounts(string source, IReadOnlyDictionary<string, long> recorded, Dictionary<string, long> counts, List<string> problems)
    {
        foreach (var label in recorded.Keys.Union(counts.Keys).Order(StringComparer.Ordinal))
        {
            long stored = counts.GetValueOrDefault(label), claimed = recorded.GetValueOrDefault(label);
            if (stored != claimed) problems.Add($"{source}: records {claimed} labelled samples of '{label}', the collection holds {stored}");
        }
    }

    private static void CheckSample(BsonDocument doc, string where, List<string> problems, HashSet<long> sids, long nextSid)
    {
        if (!doc["sid"].IsInt64 && !doc["sid"].IsInt32) { problems.Add($"{where}: no sample id"); return; }
        long sid = doc["sid"].AsInt64;
        if (!sids.Add(sid)) problems.Add($"{where}: sample id {sid} appears twice");
        if (sid > nextSid) problems.Add($"{where}: sample id {sid} is beyond the recorded next id {nextSid}");
        if (!doc["window"].IsBinary) { problems.Add($"{where}: window is not binary"); return; }
        int channels = doc["channels"].IsInt32 ? doc["channels"].AsInt32 : 0;
        int bytes = doc["window"].AsBinary.Length;
        if (channels <= 0 || bytes == 0 || bytes % (4 * channels) != 0)
            problems.Add($"{where}: window of {bytes} bytes does not hold whole samples of {channels} channels");
        bool half = doc[EmbeddingTypeField].IsString && doc[EmbeddingTypeField].AsString == HalfEmbedding;
        if (doc[EmbeddingTypeField].IsString && !half) problems.Add($"{where}: embedding type '{doc[EmbeddingTypeField].AsString}' is neither absent (float32) nor '{HalfEmbedding}'");
        if (!doc["embedding"].IsBinary || doc["embedding"].AsBinary.Length % (half ? 2 : 4) != 0)
            problems.Add($"{where}: embedding is not a {(half ? "float16" : "float32")} array");
        if (!doc["start"].IsDateTime || !doc["end"].IsDateTime || doc["start"].AsDateTime > doc["end"].AsDateTime)
            problems.Add($"{where}: window timestamps are missing or reversed");
        if (!doc["model"].IsString) problems.Add($"{where}: no model version");
    }

    private void WriteUnlabelled(PendingSample pending)
    {
        lock (_dbGate)
        {
            if (_disposed) return;
            long allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
            var doc = FillSampleDocument(pending);
            doc["_id"] = pending.Slot;
            // No meta write: the sample carries its sid and Algorithm R count, which is what a start-up after a crash
            // recovers the state from (see SaveMeta). The meta document's update was ~9 KB of LiteDB's allocation
            // (a second collection's snapshot, index search and page) of the ~38 KB that a stored window cost.
            long count = InTransaction(doc, static (r, d) => Interlocked.Read(ref r._unlabelledCount) + (Put(r._unlabelled, d) ? 1 : 0));
            Interlocked.Exchange(ref _unlabelledCount, count);
            if (_slotSids is { } slots)
            {
                if (pending.Slot >= slots.Length) Array.Resize(ref _slotSids, pending.Slot + 1);
                _slotSids[pending.Slot] = pending.Sid;
            }
            CheckQuota();
            _writtenWindows++;
            _writeAllocatedBytes += GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        }
    }

    /// <summary>The slot-to-sample-id map (under <c>_dbGate</c>), made by one scan of the unlabelled samples when first needed.</summary>
    private long[] SlotSids()
    {
        if (_slotSids is { } made) return made;
        var slots = new long[_settings.Capacity];
        foreach (var doc in _unlabelled.Query().Select("{ slot: $._id, sid: $.sid }").ToEnumerable())
        {
            int slot = doc["slot"].AsInt32;
            if (slot < 0) continue; // CheckConsistency reports it
            if (slot >= slots.Length) Array.Resize(ref slots, slot + 1);
            slots[slot] = doc["sid"].AsInt64;
        }
        DropCache(collect: true); // the scan cached every sample's pages
        return _slotSids = slots;
    }

    private void InsertLabelled(BsonDocument doc, string label)
    {
        InTransaction((Doc: doc, Label: label), static (r, s) =>
        {
            r.InsertLabelledInTransaction(s.Doc, s.Label);
            return true;
        });
        Interlocked.Increment(ref _labelsAdded);
        CheckQuota();
    }

    /// <summary>
    /// Class-balanced reservoir (after Chrysakis and Moens, 2020): while there is room everything is kept; when
    /// full, a sample of a class that is not the largest replaces a random sample of the largest class, and a
    /// sample of the largest class replaces a random sample of its own class with probability m_c / n_c, so
    /// rare classes are never crowded out by common ones. The held-out share is kept per class.
    /// </summary>
    private void InsertLabelledInTransaction(BsonDocument doc, string label)
    {
        long total = _perClass.Values.Sum();
        bool full = total >= _settings.LabelledCapacity || (_quotaReached && total > 0);
        if (full)
        {
            long largest = _perClass.Values.Max();
            string victimClass;
            if (_perClass.GetValueOrDefault(label) < largest)
                victimClass = _perClass.Where(p => p.Value == largest).Select(p => p.Key).OrderBy(_ => _labelRandom.Next()).First();
            else
            {
                long seenOfClass = _perClass[label] + 1;
                if (_labelRandom.NextInt64(seenOfClass) >= _perClass[label]) return; // not kept
                victimClass = label;
            }
            var victims = _labelled.Find(Query.EQ("label", victimClass)).Select(d => (Id: d["_id"].AsInt64, HeldOut: d["heldOut"].AsBoolean)).ToArray();
            var victim = victims[_labelRandom.Next(victims.Length)];
            _labelled.Delete(victim.Id);
            Adjust(_perClass, victimClass, -1);
            if (victim.HeldOut) Adjust(_heldOutPerClass, victimClass, -1);
        }
        long classCount = _perClass.GetValueOrDefault(label);
        bool heldOut = _heldOutPerClass.GetValueOrDefault(label) < _settings.HeldOutFraction * (classCount + 1) - 1e-9 &&
                       _settings.HeldOutFraction > 0 && classCount + 1 >= 2;
        doc["_id"] = doc["sid"].AsInt64;
        doc["label"] = label;
        doc["heldOut"] = heldOut;
        doc["labelledAt"] = _time.GetUtcNow().UtcDateTime;
        Put(_labelled, doc);
        Adjust(_perClass, label, +1);
        if (heldOut) Adjust(_heldOutPerClass, label, +1);
        SaveMeta(closing: false);
    }

    /// <summary>
    /// The reservoir's state (Algorithm R count, next sample id, per-class counts), written in the transaction of every
    /// labelled change (rare: a command or a label rule) but not of the unlabelled writes (the steady-state ones). A
    /// complete document, with the unlabelled count, is written by a clean close (<paramref name="closing"/>) and read
    /// by the next start-up instead of the samples; while the reservoir is open its meta document has no unlabelled
    /// count, so a start-up after a crash sees that and recovers the state from the samples themselves (their sids,
    /// the Algorithm R count each was stored at, the labels): what a kill -9 can lose is the sample in flight, as when
    /// the state was written with every sample. A daemon from before this (which read the count when present and
    /// otherwise scanned) reads both forms correctly.
    /// </summary>
    private void SaveMeta(bool closing)
    {
        if (_classDocumentsStale)
        {
            _perClassDocument = ClassDocument(_perClass);
            _heldOutDocument = ClassDocument(_heldOutPerClass);
            _classDocumentsStale = false;
        }
        var meta = _metaDocument;
        meta["_id"] = "state";
        meta["schema"] = SchemaVersion;
        meta["seen"] = Interlocked.Read(ref _seen);
        meta["nextSid"] = Interlocked.Read(ref _nextSid);
        meta["capacity"] = _settings.Capacity;
        meta["labelledCapacity"] = _settings.LabelledCapacity;
        if (closing) meta["unlabelled"] = Interlocked.Read(ref _unlabelledCount);
        else meta.Remove("unlabelled");
        meta["perClass"] = _perClassDocument;
        meta["heldOutPerClass"] = _heldOutDocument;
        Put(_meta, meta);
    }

    /// <summary>
    /// LiteDB's Upsert done as Update, then Insert only when no document has that _id: the same outcome for ~1.5 KB
    /// less allocation per write once the document exists (a full reservoir only replaces). True when it inserted.
    /// </summary>
    private static bool Put(ILiteCollection<BsonDocument> collection, BsonDocument document)
    {
        if (collection.Update(document)) return false;
        collection.Insert(document);
        return true;
    }

    private static BsonDocument ClassDocument(Dictionary<string, long> counts)
    {
        var doc = new BsonDocument();
        foreach (var (label, count) in counts) doc[label] = count;
        return doc;
    }

    /// <summary>
    /// Runs one change (called under <c>_dbGate</c>) as one LiteDB transaction. A change adjusts the per-class counts
    /// in memory before it writes them to the meta document, so when it fails the database rolls back and the counts
    /// are read back from the committed meta document: memory and file never disagree after a failed write.
    /// </summary>
    private TResult InTransaction<TState, TResult>(TState state, Func<LiteDbReservoir, TState, TResult> change)
    {
        _db.BeginTrans();
        try
        {
            var result = change(this, state);
            _db.Commit();
            return result;
        }
        catch
        {
            _db.Rollback();
            LoadClassCounts(_meta.FindById("state"));
            throw;
        }
    }

    /// <summary>The per-class counts as a committed meta document records them (left as they are if it holds none yet).</summary>
    private void LoadClassCounts(BsonDocument? meta)
    {
        if (meta is null || !meta["perClass"].IsDocument || !meta["heldOutPerClass"].IsDocument) return;
        _perClass.Clear();
        _heldOutPerClass.Clear();
        foreach (var (label, count) in meta["perClass"].AsDocument) Adjust(_perClass, label, count.AsInt64);
        foreach (var (label, count) in meta["heldOutPerClass"].AsDocument) Adjust(_heldOutPerClass, label, count.AsInt64);
    }

    /// <summary>
    /// Reads the state, then marks the reservoir open (<see cref="SaveMeta"/>); true when the meta document held the
    /// state (a clean close, a new reservoir), false when the samples had to be scanned (a crash, or a database of a
    /// daemon that kept only counters in meta).
    /// </summary>
    private bool LoadState()
    {
        var meta = _meta.FindById("state");
        bool complete = false;
        if (meta is not null)
        {
            if (meta["schema"].AsInt32 != SchemaVersion)
                throw new IOException($"reservoir '{_settings.Path}' has schema {meta["schema"]}, this daemon writes {SchemaVersion}");
            _seen = meta["seen"].AsInt64;
            _nextSid = meta["nextSid"].AsInt64;
            if (meta["unlabelled"].IsNumber && meta["perClass"].IsDocument && meta["heldOutPerClass"].IsDocument)
            {
                _unlabelledCount = meta["unlabelled"].AsInt64;
                LoadClassCounts(meta);
                complete = true;
            }
        }
        else complete = _unlabelled.Count() == 0 && _labelled.Count() == 0; // a new reservoir
        if (!complete) RecoverFromSamples();
        // Open from here on: until the close writes it complete again, the meta document tells a start-up to recover.
        InTransaction(0, static (r, _) =>
        {
            r.SaveMeta(closing: false);
            return true;
        });
        CheckQuota();
        return complete;
    }

    /// <summary>
    /// The state as the samples record it, for a reservoir that was not closed cleanly: the counts, the largest sample
    /// id and the largest Algorithm R count a sample was stored at (the last write's), each at least what the meta
    /// document last recorded (a labelled change's, or the open's).
    /// </summary>
    private void RecoverFromSamples()
    {
        long maxSid = 0, maxSeen = 0;
        _unlabelledCount = 0;
        _perClass.Clear();
        _heldOutPerClass.Clear();
        foreach (var doc in _unlabelled.Query().Select("{ sid: $.sid, seen: $.seen }").ToEnumerable())
        {
            _unlabelledCount++;
            maxSid = Math.Max(maxSid, doc["sid"].AsInt64);
            if (doc["seen"].IsNumber) maxSeen = Math.Max(maxSeen, doc["seen"].AsInt64);
        }
        foreach (var doc in _labelled.Query().Select("{ sid: $._id, seen: $.seen, label: $.label, heldOut: $.heldOut }").ToEnumerable())
        {
            maxSid = Math.Max(maxSid, doc["sid"].AsInt64);
            if (doc["seen"].IsNumber) maxSeen = Math.Max(maxSeen, doc["seen"].AsInt64);
            string label = doc["label"].AsString;
            Adjust(_perClass, label, 1);
            if (doc["heldOut"].AsBoolean) Adjust(_heldOutPerClass, label, 1);
        }
        // Ids are never reused, and the count of windows offered never goes back.
        _nextSid = Math.Max(_nextSid, maxSid);
        _seen = Math.Max(Math.Max(_seen, maxSeen), _unlabelledCount);
    }

    private void CheckQuota()
    {
        // LiteDB writes committed pages to its log from a background queue, so the files lag behind the
        // commits (by many pages on a loaded machine). Near the quota, a checkpoint drains that queue first
        // so the decision is made on the real size.
        if (DiskBytes() >= _settings.QuotaBytes / 2) _db.Checkpoint();
        bool over = DiskBytes() >= _settings.QuotaBytes;
        // Past the quota only replacements are written; fold the write-ahead log back into the data file so
        // those reuse free pages instead of growing the log.
        if (over && _logFile.Exists && _logFile.Length > 0)
        {
            _db.Checkpoint();
            over = DiskBytes() >= _settings.QuotaBytes;
        }
        if (over != _quotaReached) Volatile.Write(ref _quotaReached, over);
    }

    private long DiskBytes()
    {
        _dataFile.Refresh();
        _logFile.Refresh();
        return (_dataFile.Exists ? _dataFile.Length : 0) + (_logFile.Exists ? _logFile.Length : 0);
    }

    /// <summary>LiteDB's write-ahead log beside the data file (<c>name-log.ext</c>).</summary>
    public static string LogPath(string path) =>
        System.IO.Path.Combine(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!,
            System.IO.Path.GetFileNameWithoutExtension(path) + "-log" + System.IO.Path.GetExtension(path));

    private void Adjust(Dictionary<string, long> counts, string label, long delta)
    {
        _classDocumentsStale = true;
        long value = counts.GetValueOrDefault(label) + delta;
        if (value <= 0) counts.Remove(label);
        else counts[label] = value;
    }

    private static BsonDocument ToDocument(PendingSample s) => new()
    {
        ["sid"] = s.Sid,
        ["seen"] = s.Seen,
        ["start"] = s.Offer.WindowStart.UtcDateTime,
        ["end"] = s.Offer.WindowEnd.UtcDateTime,
        ["stored"] = s.StoredAt.UtcDateTime,
        ["model"] = s.Offer.ModelVersion,
        ["channels"] = s.Offer.Channels,
        ["window"] = MemoryMarshal.AsBytes(s.Window.AsSpan()).ToArray(),
        ["embedding"] = MemoryMarshal.AsBytes(s.Embedding.AsSpan()).ToArray(),
        [EmbeddingTypeField] = BsonValue.Null,
        ["prediction"] = s.Offer.Prediction is null ? BsonValue.Null : new BsonValue(s.Offer.Prediction),
        ["score"] = (double)s.Offer.Score,
    };

    /// <summary>The reused document of an unlabelled write (under <c>_dbGate</c>).</summary>
    private BsonDocument FillSampleDocument(PendingSample s)
    {
        var window = MemoryMarshal.AsBytes(s.Window.AsSpan());
        if (_windowBytes.Length != window.Length) _windowBytes = new byte[window.Length];
        window.CopyTo(_windowBytes);
        var doc = _sampleDocument;
        if (FitsHalf(s.Embedding))
        {
            if (_embeddingHalfBytes.Length != 2 * s.Embedding.Length) _embeddingHalfBytes = new byte[2 * s.Embedding.Length];
            var half = MemoryMarshal.Cast<byte, Half>(_embeddingHalfBytes.AsSpan());
            for (int i = 0; i < half.Length; i++) half[i] = (Half)s.Embedding[i];
            doc["embedding"] = _embeddingHalfBytes;
            doc[EmbeddingTypeField] = HalfEmbedding;
        }
        else
        {
            var embedding = MemoryMarshal.AsBytes(s.Embedding.AsSpan());
            if (_embeddingBytes.Length != embedding.Length) _embeddingBytes = new byte[embedding.Length];
            embedding.CopyTo(_embeddingBytes);
            doc["embedding"] = _embeddingBytes;
            doc[EmbeddingTypeField] = BsonValue.Null;
        }
        doc["sid"] = s.Sid;
        doc["seen"] = s.Seen;
        doc["start"] = s.Offer.WindowStart.UtcDateTime;
        doc["end"] = s.Offer.WindowEnd.UtcDateTime;
        doc["stored"] = s.StoredAt.UtcDateTime;
        doc["model"] = s.Offer.ModelVersion;
        doc["channels"] = s.Offer.Channels;
        doc["window"] = _windowBytes;
        doc["prediction"] = s.Offer.Prediction is null ? BsonValue.Null : new BsonValue(s.Offer.Prediction);
        doc["score"] = (double)s.Offer.Score;
        return doc;
    }

    private static ReservoirSample FromDocument(BsonDocument doc) => new(
        doc["sid"].AsInt64,
        new DateTimeOffset(DateTime.SpecifyKind(doc["start"].AsDateTime.ToUniversalTime(), DateTimeKind.Utc)),
        new DateTimeOffset(DateTime.SpecifyKind(doc["end"].AsDateTime.ToUniversalTime(), DateTimeKind.Utc)),
        new DateTimeOffset(DateTime.SpecifyKind(doc["stored"].AsDateTime.ToUniversalTime(), DateTimeKind.Utc)),
        doc["model"].AsString,
        doc["channels"].AsInt32,
        MemoryMarshal.Cast<byte, float>(doc["window"].AsBinary).ToArray(),
        ReadEmbedding(doc),
        doc["label"].IsString ? doc["label"].AsString : null,
        doc["labelledAt"].IsDateTime ? new DateTimeOffset(DateTime.SpecifyKind(doc["labelledAt"].AsDateTime.ToUniversalTime(), DateTimeKind.Utc)) : null,
        doc["heldOut"].IsBoolean && doc["heldOut"].AsBoolean);

    /// <summary>
    /// Unlabelled embeddings are stored as float16 (<c>embeddingType: "f16"</c>): half the bytes of the largest field of
    /// a sample (a 3584-wide embedding is 7 KB instead of 14 KB), so a write costs LiteDB fewer pages, and the drift
    /// statistics and head training they feed do not need more than float16's three significant digits. An embedding
    /// that float16 cannot hold (beyond +-65504, or not finite) is stored as float32 rather than saturated.
    /// </summary>
    private static bool FitsHalf(ReadOnlySpan<float> embedding)
    {
        foreach (float v in embedding)
            if (!(Math.Abs(v) <= (float)Half.MaxValue)) return false;
        return true;
    }

    private static float[] ReadEmbedding(BsonDocument doc)
    {
        var bytes = doc["embedding"].AsBinary;
        if (!(doc[EmbeddingTypeField].IsString && doc[EmbeddingTypeField].AsString == HalfEmbedding))
            return MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        var half = MemoryMarshal.Cast<byte, Half>(bytes);
        var values = new float[half.Length];
        for (int i = 0; i < values.Length; i++) values[i] = (float)half[i];
        return values;
    }

    public void Dispose()
    {
        lock (_dbGate)
        {
            if (_disposed) return;
            _disposed = true;
            try
            {
                // Complete: the next start-up reads this document instead of the samples.
                InTransaction(0, static (r, _) =>
                {
                    r.SaveMeta(closing: true);
                    return true;
                });
                _db.Checkpoint();
            }
            finally
            {
                _db.Dispose();
            }
        }
    }

}
