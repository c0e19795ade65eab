using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using EdgeAgent.Daemon.Control;
using EdgeAgent.Daemon.Inference;

namespace EdgeAgent.Daemon.Models;

/// <summary>
/// Owns the served model: start-up resolution with fallback, deploys (verify → install → load → activate →
/// swap) and rollbacks. A deploy or rollback whose model fails to load leaves the old one serving. The
/// inference loop reads <see cref="Current"/> once per window and calls <see cref="ReleaseRetired"/> between
/// windows, so an engine is never disposed while it runs.
/// </summary>
public sealed class ModelHost : IDisposable
{
    private readonly IModelStore _store;
    private readonly IBundleVerifier _verifier;
    private readonly IInferenceEngineFactory _factory;
    private readonly IEventSink _events;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _changeLock = new(1, 1);
    private readonly ConcurrentQueue<ServedModel> _retired = new();
    private ServedModel? _current;

    public ModelHost(string modelName, IModelStore store, IBundleVerifier verifier, IInferenceEngineFactory factory, IEventSink events, TimeProvider time)
    {
        ModelName = modelName;
        _store = store;
        _verifier = verifier;
        _factory = factory;
        _events = events;
        _time = time;
    }

    public string ModelName { get; }

    public IModelStore Store => _store;

    /// <summary>The served model, or null before start-up loaded one.</summary>
    public ServedModel? Current => Volatile.Read(ref _current);

    /// <summary>Raised after every swap, on the thread that swapped.</summary>
    public event Action<ServedModel>? Swapped;

    /// <summary>
    /// Start-up: serve the current version, else fall back through earlier good versions, else install
    /// <paramref name="demoBundle"/> when the store has no version at all. Throws <see cref="ModelLoadException"/>
    /// listing every version tried when nothing loads.
    /// </summary>
    public async Task<ServedModel> LoadAtStartupAsync(string? demoBundle, CancellationToken cancellationToken)
    {
        await _changeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            IInferenceEngine? engine = null;
            var resolution = _store.ResolveServable(ModelName, model =>
            {
                try
                {
                    engine = _factory.Load(model.BundlePath, model.Name, model.Version);
                    return null;
                }
                catch (Exception e) when (e is ModelLoadException or IOException or InvalidDataException)
                {
                    return e.Message;
                }
            });
            if (resolution is not null)
            {
                if (resolution.FellBack)
                    _events.Publish(new DaemonEvent(_time.GetUtcNow(), "model.fallback",
                        $"serving {ModelName} {resolution.Model.Version}; skipped: {string.Join("; ", resolution.Skipped)}",
                        new JsonObject { ["version"] = resolution.Model.Version, ["skipped"] = new JsonArray(resolution.Skipped.Select(s => (JsonNode?)s).ToArray()) }));
                return SwapIn(resolution.Model, engine!);
            }
            bool storeIsEmpty = _store.List(ModelName).Count == 0;
            if (storeIsEmpty && demoBundle is not null && File.Exists(demoBundle))
            {
                var served = DeployLocked(demoBundle, allowDowngrade: true, parent: null, reason: "demo model (store was empty)");
                return served;
            }
            string tried = string.Join("; ", _store.List(ModelName).Select(m => $"{m.Version}: {m.BadReason ?? "not loadable"}"));
            throw new ModelLoadException(storeIsEmpty
                ? $"no model '{ModelName}' in {_store.Root} and no demo bundle at '{demoBundle}'; deploy one with 'exporter publish' or set model:demoBundle"
                : $"no version of '{ModelName}' in {_store.Root} loads: {tried}");
        }
        finally
        {
            _changeLock.Release();
        }
    }

    /// <summary>
    /// Installs and serves a bundle. Refuses a bundle that fails verification, names another model, or is not
    /// newer than the current version (unless <paramref name="allowDowngrade"/>); the old model keeps serving.
    /// </summary>
    public async Task<ServedModel> DeployAsync(string bundleFile, bool allowDowngrade, string? parent, string reason, CancellationToken cancellationToken)
    {
        await _changeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return DeployLocked(bundleFile, allowDowngrade, parent, reason);
        }
        finally
        {
            _changeLock.Release();
        }
    }

    /// <summary>Serves an earlier version (the previous one when <paramref name="toVersion"/> is null).</summary>
    public async Task<ServedModel> RollbackAsync(string? toVersion, CancellationToken cancellationToken)
    {
        await _changeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var before = _store.GetCurrent(ModelName);
            if (toVersion is not null && _store.List(ModelName).All(m => m.Version != toVersion))
                throw new ModelStoreException($"{ModelName} {toVersion} is not in the store (have: {string.Join(", ", _store.List(ModelName).Select(m => m.Version))})");
            if (toVersion is null)
            {
                var target = _store.List(ModelName).FirstOrDefault(m => m.Version != before?.Version && !m.IsBad);
                _ = target ?? throw new ModelStoreException($"{ModelName}: no other good version to roll back to");
            }
            var stored = _store.Rollback(ModelName, toVersion);
            IInferenceEngine engine;
            try
            {
                engine = LoadVerified(stored);
            }
            catch (ModelLoadException e)
            {
                _store.MarkBad(ModelName, stored.Version, e.Message);
                if (before is not null) _store.Activate(ModelName, before.Version);
                throw;
            }
            var served = SwapIn(stored, engine);
            _events.Publish(new DaemonEvent(_time.GetUtcNow(), "model.rollback",
                $"rolled back {ModelName} from {before?.Version ?? "none"} to {stored.Version}",
                new JsonObject { ["from"] = before?.Version, ["to"] = stored.Version }));
            return served;
        }
        finally
        {
            _changeLock.Release();
        }
    }

    /// <summary>Disposes engines swapped out since the last call; only the inference loop calls this.</summary>
    public void ReleaseRetired()
    {
        while (_retired.TryDequeue(out var old)) old.Engine.Dispose();
    }

    private ServedModel DeployLocked(string bundleFile, bool allowDowngrade, string? parent, string reason)
    {
        var verdict = _verifier.Verify(bundleFile);
        if (!verdict.Ok) throw new ModelStoreException($"bundle '{bundleFile}' refused: {verdict.Error}");
        if (verdict.Name != ModelName)
            throw new ModelStoreException($"bundle '{bundleFile}' is model '{verdict.Name}', this device serves '{ModelName}' (model:name)");
        var current = Current?.Stored ?? _store.GetCurrent(ModelName);
        if (current is not null && !allowDowngrade && ModelVersionComparer.Instance.Compare(verdict.Version, current.Version) <= 0)
            throw new ModelStoreException($"{ModelName} {verdict.Version} is not newer than the current {current.Version}; use model/rollback to go back");
        var stored = _store.Install(ModelName, verdict.Version!, bundleFile, parent ?? current?.Version);
        IInferenceEngine engine;
        try
        {
            engine = LoadVerified(stored);
        }
        catch (ModelLoadException e)
        {
            _store.MarkBad(ModelName, stored.Version, e.Message);
            throw;
        }
        _store.Activate(ModelName, stored.Version);
        var served = SwapIn(stored, engine);
        _events.Publish(new DaemonEvent(_time.GetUtcNow(), "model.activated",
            $"serving {ModelName} {stored.Version} ({reason})",
            new JsonObject { ["version"] = stored.Version, ["previous"] = current?.Version, ["sha256"] = stored.Sha256, ["reason"] = reason }));
        return served;
    }

    private IInferenceEngine LoadVerified(StoredModel stored)
    {
        string? broken = ModelStore.CheckIntegrity(stored);
        if (broken is not null) throw new ModelLoadException(broken);
        try
        {
            return _factory.Load(stored.BundlePath, stored.Name, stored.Version);
        }
        catch (Exception e) when (e is IOException or InvalidDataException)
        {
            throw new ModelLoadException($"{stored.Name} {stored.Version}: {e.Message}", e);
        }
    }

    private ServedModel SwapIn(StoredModel stored, IInferenceEngine engine)
    {
        var served = new ServedModel(stored, engine, _time.GetUtcNow());
        var old = Interlocked.Exchange(ref _current, served);
        if (old is not null) _retired.Enqueue(old);
        Swapped?.Invoke(served);
        return served;
    }

    public void Dispose()
    {
        ReleaseRetired();
        Interlocked.Exchange(ref _current, null)?.Engine.Dispose();
        _changeLock.Dispose();
    }
}
