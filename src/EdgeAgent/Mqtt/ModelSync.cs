using System.Text.Json.Nodes;
using EdgeAgent.Compression.Distribution;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>
/// Receives models published as transfers (retained manifest + retained chunks, see <see cref="TransferTopics"/>) on
/// the device's own prefix and on each fleet group's: checks every chunk, reassembles on disk (resuming after a
/// disconnect or restart), verifies the bundle's signature, refuses downgrades unless a rollback asked for that exact
/// bundle, and hands it to the model store, which swaps atomically. Every outcome is reported on the events topic.
/// Nothing here touches the serving model until the store's swap, so any rejection leaves the old model serving.
/// </summary>
public sealed class ModelSync : IDisposable
{
    private const string RejectedFile = "rejected.txt";
    private readonly MqttConnection _connection;
    private readonly IModelStore _store;
    private readonly IBundleVerifier _verifier;
    private readonly EventPublisher _events;
    private readonly ILogger _logger;
    private readonly string _root;
    private readonly string[] _prefixes;
    private readonly Lock _gate = new();
    private readonly SemaphoreSlim _completing = new(1, 1);
    private readonly Dictionary<string, TransferManifest> _announced = new(StringComparer.Ordinal); // prefix → latest manifest
    private readonly HashSet<string> _rejected;
    private readonly HashSet<string> _downgradeAllowed = new(StringComparer.Ordinal);
    private readonly HashSet<(string, int)> _reportedBadChunks = [];
    private Active? _active;

    private sealed record Active(string Prefix, TransferAssembly Assembly, DateTimeOffset StartedUtc);

    /// <summary>Runs after each stored chunk (tests pause the transfer here to restart the broker mid-way).</summary>
    internal Func<int, Task>? ChunkStoredHook { get; set; }

    /// <summary>Raised after a model was installed or activated, so the status can be republished.</summary>
    public event Action<InstalledModel>? ModelChanged;

    public ModelSync(MqttConnection connection, MqttOptions options, IModelStore store, IBundleVerifier verifier, EventPublisher events, ILogger logger)
    {
        _connection = connection;
        _store = store;
        _verifier = verifier;
        _events = events;
        _logger = logger;
        _root = options.TransferDirectory;
        Directory.CreateDirectory(_root);
        _prefixes = [connection.Topics.DeviceModel, .. options.FleetGroups.Select(MqttTopics.FleetModel)];
        string rejectedPath = Path.Combine(_root, RejectedFile);
        _rejected = File.Exists(rejectedPath)
            ? new HashSet<string>(File.ReadAllLines(rejectedPath).Where(Hex.IsSha256), StringComparer.Ordinal)
            : new HashSet<string>(StringComparer.Ordinal);
        connection.OnMessage(OnMessageAsync);
        connection.Connected += OnReconnectedAsync;
    }

    /// <summary>
    /// After a reconnect on a resumed session the broker may or may not still hold the chunks it had queued for us
    /// (a restarted broker often does not); asking for the retained chunks again costs duplicates, which are skipped
    /// without hashing, and guarantees the transfer resumes.
    /// </summary>
    private async Task OnReconnectedAsync(bool subscriptionsRenewed)
    {
        Active? active;
        lock (_gate) active = _active;
        if (active is null || subscriptionsRenewed) return;
        string filter = TransferTopics.ChunkFilter(active.Prefix, active.Assembly.Manifest.Sha256);
        await _connection.Unsubscribe(filter).ConfigureAwait(false);
        await _connection.Subscribe(filter).ConfigureAwait(false);
    }

    public async Task SubscribeAsync(CancellationToken cancellationToken)
    {
        foreach (string prefix in _prefixes)
            await _connection.Subscribe(TransferTopics.Manifest(prefix), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The transfer in progress, for status and model/list: hash, chunks received and total.</summary>
    public JsonObject? Progress()
    {
        lock (_gate)
        {
            if (_active is null) return null;
            var m = _active.Assembly.Manifest;
            return new JsonObject
            {
                ["sha256"] = m.Sha256,
                ["name"] = m.Name,
                ["version"] = m.Version,
                ["received"] = _active.Assembly.Received,
                ["chunks"] = m.ChunkCount,
                ["source"] = _active.Prefix,
            };
        }
    }

    private async Task OnMessageAsync(IncomingMessage message)
    {
        foreach (string prefix in _prefixes)
        {
            if (message.Topic == TransferTopics.Manifest(prefix))
            {
                await OnManifestAsync(prefix, message.Payload).ConfigureAwait(false);
                return;
            }
            if (TransferTopics.TryParseChunk(message.Topic, prefix, out string sha, out int index))
            {
                await OnChunkAsync(prefix, sha, index, message.Payload).ConfigureAwait(false);
                return;
            }
        }
    }

    private async Task OnManifestAsync(string prefix, byte[] payload)
    {
        if (payload.Length == 0) return; // the publisher cleared it
        TransferManifest manifest;
        try
        {
            manifest = TransferManifestJson.Parse(payload);
            if (manifest.Kind != TransferKinds.Bundle) throw new TransferException($"manifest 'kind' is '{manifest.Kind}', a model topic carries bundles");
        }
        catch (TransferException e)
        {
            _logger.LogWarning("ignoring the manifest on {Topic}: {Error}", TransferTopics.Manifest(prefix), e.Message);
            await _events.PublishEventAsync("model/rejected", new JsonObject { ["source"] = prefix, ["reason"] = e.Message }).ConfigureAwait(false);
            return;
        }
        lock (_gate) _announced[prefix] = manifest;
        await ConsiderAsync(prefix, manifest).ConfigureAwait(false);
    }

    /// <summary>Decides whether to fetch an announced bundle, and starts (or resumes) the transfer if so.</summary>
    private async Task ConsiderAsync(string prefix, TransferManifest manifest)
    {
        var current = _store.Current;
        if (current?.Sha256 == manifest.Sha256) return;
        bool allowed;
        lock (_gate)
        {
            if (_rejected.Contains(manifest.Sha256)) return;
            if (_active?.Assembly.Manifest.Sha256 == manifest.Sha256) return;
            allowed = _downgradeAllowed.Contains(manifest.Sha256);
        }
        // The manifest is unsigned, so this early check only saves a pointless download; the signed version is checked again.
        if (!allowed && current is not null && manifest.Name == current.Name && manifest.Version is not null
            && ModelVersion.Compare(manifest.Version, current.Version) <= 0)
        {
            await RejectAsync(manifest, $"downgrade refused: {manifest.Name} {manifest.Version} is not newer than the running {current.Version} (use model/rollback)").ConfigureAwait(false);
            return;
        }
        Active? superseded = null;
        Active started;
        lock (_gate)
        {
            if (_active is not null)
            {
                // A newer publication on the same prefix replaces the one in flight; another prefix waits its turn.
                if (_active.Prefix != prefix) return;
                superseded = _active;
            }
            started = _active = new Active(prefix, TransferAssembly.OpenOrCreate(_root, manifest), DateTimeOffset.UtcNow);
            _reportedBadChunks.Clear();
        }
        if (superseded is not null)
        {
            await _connection.Unsubscribe(TransferTopics.ChunkFilter(superseded.Prefix, superseded.Assembly.Manifest.Sha256)).ConfigureAwait(false);
            superseded.Assembly.Discard();
        }
        TransferAssembly.Prune(_root, manifest.Sha256);
        _logger.LogInformation("model transfer {Sha} ({Name} {Version}, {Bytes} bytes) from {Prefix}: {Have}/{Total} chunks already held",
            manifest.Sha256[..12], manifest.Name, manifest.Version, manifest.Bytes, prefix, started.Assembly.Received, manifest.ChunkCount);
        await _events.PublishEventAsync("model/transfer-started", new JsonObject
        {
            ["sha256"] = manifest.Sha256, ["name"] = manifest.Name, ["version"] = manifest.Version,
            ["bytes"] = manifest.Bytes, ["chunks"] = manifest.ChunkCount, ["resumed_chunks"] = started.Assembly.Received, ["source"] = prefix,
        }).ConfigureAwait(false);
        if (started.Assembly.AllChunksReceived) await CompleteAsync(started).ConfigureAwait(false);
        else await _connection.Subscribe(TransferTopics.ChunkFilter(prefix, manifest.Sha256)).ConfigureAwait(false);
    }

    private async Task OnChunkAsync(string prefix, string sha, int index, byte[] payload)
    {
        if (payload.Length == 0) return; // a cleared chunk
        Active? active;
        lock (_gate) active = _active;
        if (active is null || active.Prefix != prefix || active.Assembly.Manifest.Sha256 != sha) return;
        ChunkOutcome outcome;
        try { outcome = active.Assembly.Accept(index, payload); }
        catch (ObjectDisposedException) { return; } // superseded while this chunk was in flight
        switch (outcome)
        {
            case ChunkOutcome.Stored:
                if (ChunkStoredHook is { } hook) await hook(active.Assembly.Received).ConfigureAwait(false);
                if (active.Assembly.AllChunksReceived) await CompleteAsync(active).ConfigureAwait(false);
                break;
            case ChunkOutcome.HashMismatch or ChunkOutcome.Invalid:
                bool first;
                lock (_gate) first = _reportedBadChunks.Add((sha, index));
                _logger.LogWarning("chunk {Index} of {Sha} rejected: {Outcome}", index, sha[..12], outcome);
                if (first)
                    await _events.PublishEventAsync("model/chunk-rejected", new JsonObject
                    {
                        ["sha256"] = sha, ["index"] = index,
                        ["reason"] = outcome == ChunkOutcome.HashMismatch ? "SHA-256 does not match the manifest" : "index or length does not match the manifest",
                    }).ConfigureAwait(false);
                break;
        }
    }

    private async Task CompleteAsync(Active active)
    {
        await _completing.WaitAsync().ConfigureAwait(false);
        try
        {
            lock (_gate)
                if (_active != active) return; // already completed or superseded
            var manifest = active.Assembly.Manifest;
            bool whole;
            try { whole = active.Assembly.TryComplete(); }
            catch (TransferException e)
            {
                await FinishAsync(active, rejectedReason: e.Message).ConfigureAwait(false);
                return;
            }
            catch (ObjectDisposedException) { return; }
            if (!whole)
            {
                // Some chunk on disk went bad (power loss); ask the broker for the retained chunks again.
                string filter = TransferTopics.ChunkFilter(active.Prefix, manifest.Sha256);
                await _connection.Unsubscribe(filter).ConfigureAwait(false);
                await _connection.Subscribe(filter).ConfigureAwait(false);
                return;
            }
            BundleIdentity identity;
            try
            {
                identity = _verifier.Verify(active.Assembly.DataPath);
            }
            catch (BundleRejectedException e)
            {
                await FinishAsync(active, rejectedReason: $"signature check failed: {e.Message}").ConfigureAwait(false);
                return;
            }
            if (identity.Sha256 != manifest.Sha256)
            {
                await FinishAsync(active, rejectedReason: $"the verified bundle hashes to {identity.Sha256}, the manifest says {manifest.Sha256}").ConfigureAwait(false);
                return;
            }
            if ((manifest.Name is not null && manifest.Name != identity.Name) || (manifest.Version is not null && manifest.Version != identity.Version))
            {
                await FinishAsync(active, rejectedReason: $"the manifest announces {manifest.Name} {manifest.Version} but the signed bundle is {identity.Name} {identity.Version}").ConfigureAwait(false);
                return;
            }
            var current = _store.Current;
            bool allowed;
            lock (_gate) allowed = _downgradeAllowed.Contains(manifest.Sha256);
            if (!allowed && current is not null && current.Name == identity.Name && ModelVersion.Compare(identity.Version, current.Version) <= 0)
            {
                await FinishAsync(active, rejectedReason: $"downgrade refused: {identity.Name} {identity.Version} is not newer than the running {current.Version} (use model/rollback)").ConfigureAwait(false);
                return;
            }
            InstalledModel installed;
            try
            {
                installed = _store.Install(active.Assembly.DataPath, identity);
            }
            catch (Exception e)
            {
                _logger.LogError(e, "installing {Name} {Version} failed; the previous model keeps serving", identity.Name, identity.Version);
                await FinishAsync(active, rejectedReason: $"install failed: {e.Message}").ConfigureAwait(false);
                return;
            }
            _logger.LogInformation("installed {Name} {Version} ({Sha})", installed.Name, installed.Version, installed.Sha256[..12]);
            await FinishAsync(active, rejectedReason: null).ConfigureAwait(false);
            await _events.PublishEventAsync("model/installed", new JsonObject
            {
                ["name"] = installed.Name, ["version"] = installed.Version, ["sha256"] = installed.Sha256, ["key_id"] = identity.KeyId,
                ["previous"] = current is null ? null : new JsonObject { ["name"] = current.Name, ["version"] = current.Version },
                ["transfer_s"] = Math.Round((DateTimeOffset.UtcNow - active.StartedUtc).TotalSeconds, 3),
                ["downgrade"] = allowed,
            }).ConfigureAwait(false);
            ModelChanged?.Invoke(installed);
        }
        finally
        {
            _completing.Release();
        }
        await StartNextAsync().ConfigureAwait(false);
    }

    /// <summary>Ends the active transfer: unsubscribes its chunks, deletes its files, and records a rejection.</summary>
    private async Task FinishAsync(Active active, string? rejectedReason)
    {
        var manifest = active.Assembly.Manifest;
        lock (_gate)
        {
            if (_active == active) _active = null;
            _downgradeAllowed.Remove(manifest.Sha256);
        }
        await _connection.Unsubscribe(TransferTopics.ChunkFilter(active.Prefix, manifest.Sha256)).ConfigureAwait(false);
        active.Assembly.Discard();
        if (rejectedReason is not null) await RejectAsync(manifest, rejectedReason).ConfigureAwait(false);
    }

    private async Task RejectAsync(TransferManifest manifest, string reason)
    {
        lock (_gate)
        {
            // Remembered across restarts: the manifest stays retained and would otherwise be fetched again forever.
            if (_rejected.Add(manifest.Sha256)) File.WriteAllLines(Path.Combine(_root, RejectedFile), _rejected);
        }
        _logger.LogWarning("model {Sha} ({Name} {Version}) rejected: {Reason}", manifest.Sha256[..12], manifest.Name, manifest.Version, reason);
        await _events.PublishEventAsync("model/rejected", new JsonObject
        {
            ["sha256"] = manifest.Sha256, ["name"] = manifest.Name, ["version"] = manifest.Version, ["reason"] = reason,
        }).ConfigureAwait(false);
    }

    /// <summary>After a transfer ends, looks at what else was announced (another prefix may have waited).</summary>
    private async Task StartNextAsync()
    {
        List<(string, TransferManifest)> candidates;
        lock (_gate)
        {
            if (_active is not null) return;
            candidates = _announced.Select(p => (p.Key, p.Value)).ToList();
        }
        foreach (var (prefix, manifest) in candidates)
        {
            await ConsiderAsync(prefix, manifest).ConfigureAwait(false);
            lock (_gate)
                if (_active is not null) return;
        }
    }

    /// <summary>model/deploy with a hash: fetch (again) a bundle announced on one of our model topics.</summary>
    public async Task<JsonObject> DeployAnnouncedAsync(string sha256, bool allowDowngrade)
    {
        if (!Hex.IsSha256(sha256)) throw new CommandException("field 'sha256' must be 64 lowercase hex digits");
        (string Prefix, TransferManifest Manifest)? found;
        lock (_gate)
        {
            found = _announced.Where(p => p.Value.Sha256 == sha256).Select(p => ((string, TransferManifest)?)(p.Key, p.Value)).FirstOrDefault();
            if (found is null)
                throw new CommandException($"no bundle {sha256[..12]}... is announced on {string.Join(" or ", _prefixes.Select(TransferTopics.Manifest))}; publish it first (exporter publish)");
            if (_rejected.Remove(sha256)) File.WriteAllLines(Path.Combine(_root, RejectedFile), _rejected);
            if (allowDowngrade) _downgradeAllowed.Add(sha256);
        }
        if (_store.Current?.Sha256 == sha256) return new JsonObject { ["state"] = "already-current", ["sha256"] = sha256 };
        await ConsiderAsync(found.Value.Prefix, found.Value.Manifest).ConfigureAwait(false);
        return new JsonObject
        {
            ["state"] = Progress()?["sha256"]?.GetValue<string>() == sha256 ? "transferring" : "queued",
            ["sha256"] = sha256, ["name"] = found.Value.Manifest.Name, ["version"] = found.Value.Manifest.Version,
        };
    }

    /// <summary>Makes a stored version current (rollback or re-deploy) and reports it.</summary>
    public async Task<InstalledModel> ActivateStoredAsync(string name, string version, string reason)
    {
        var previous = _store.Current;
        var activated = _store.Activate(name, version);
        await _events.PublishEventAsync(reason, new JsonObject
        {
            ["name"] = activated.Name, ["version"] = activated.Version, ["sha256"] = activated.Sha256,
            ["previous"] = previous is null ? null : new JsonObject { ["name"] = previous.Name, ["version"] = previous.Version },
        }).ConfigureAwait(false);
        ModelChanged?.Invoke(activated);
        return activated;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _active?.Assembly.Dispose();
            _active = null;
        }
    }
}
