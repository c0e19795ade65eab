using System.Text.Json.Nodes;
using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Deltas;
using EdgeAgent.Compression.Distribution;
using EdgeAgent.Compression.IO;
using EdgeAgent.Compression.Signing;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Daemon.Mqtt;

/// <summary>What one accepted update turned into on the wire.</summary>
public sealed record DeltaPublication(string Sha256, long DeltaBytes, long BundleBytes, long ChangedElements, long Samples,
    string BaseVersion, string UpdatedVersion, IReadOnlyList<string> Groups, bool Sent);

/// <summary>
/// After an accepted on-device update, publishes the signed delta of the trainable layers (bound to the base model's
/// hash, with the per-class sample counts behind it) to every fleet group the device belongs to, as a retained transfer
/// at <c>edgeagent/fleet/{group}/delta/{d}</c> for <c>exporter fleet aggregate</c>. The delta is written to
/// <see cref="MqttOptions.DeltaDirectory"/> first and sent when the broker is reachable (now, or on the next connect),
/// so an update made offline still reaches the aggregator. Each new delta replaces the device's previous one and clears
/// its chunks.
/// </summary>
public sealed class DeltaPublisher : IDisposable
{
    private const string PendingSuffix = ".pending";
    private const string PublishedSuffix = ".published";
    private readonly MqttConnection _connection;
    private readonly EventPublisher _events;
    private readonly ILogger _logger;
    private readonly string _directory;
    private readonly string[] _groups;
    private readonly string? _keyFile;
    private readonly SemaphoreSlim _sending = new(1, 1);
    private BundleSigningKey? _key;

    public DeltaPublisher(MqttConnection connection, MqttOptions options, EventPublisher events, ILogger logger)
    {
        _connection = connection;
        _events = events;
        _logger = logger;
        _directory = options.DeltaDirectory;
        _groups = options.FleetGroups;
        _keyFile = string.IsNullOrEmpty(options.DeltaSigningKeyFile) ? null : options.DeltaSigningKeyFile;
        connection.Connected += async _ =>
        {
            try { await SendPendingAsync(CancellationToken.None).ConfigureAwait(false); }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _logger.LogWarning("sending stored weight deltas failed: {Error}", e.Message);
            }
        };
    }

    /// <summary>
    /// Computes, signs, stores and (when online) publishes the delta from <paramref name="baseBundlePath"/> to
    /// <paramref name="updatedBundlePath"/>. Throws when the bundles cannot form a delta or no signing key is configured.
    /// </summary>
    public async Task<DeltaPublication> PublishAsync(string baseBundlePath, string updatedBundlePath, IReadOnlyDictionary<string, long> classSamples,
        CancellationToken cancellationToken = default)
    {
        var key = SigningKey();
        var baseBundle = ModelBundle.ReadFile(baseBundlePath);
        var updated = ModelBundle.ReadFile(updatedBundlePath);
        var delta = BundleWeights.Diff(baseBundle, updated, classSamples, _connection.Topics.DeviceId);
        byte[] signed = delta.Sign(key);
        var package = TransferPackager.FromBytes(signed, describe: m => m with
        {
            Kind = TransferKinds.Delta,
            Name = baseBundle.Manifest.Name,
            Version = updated.Manifest.Version,
            BaseSha256 = baseBundle.BundleSha256,
            Samples = delta.Metadata.SampleCount,
            Origin = _connection.Topics.DeviceId,
        });

        Directory.CreateDirectory(_directory);
        foreach (string group in _groups)
        {
            AtomicFile.WriteAllBytes(FilePath(group, ".delta" + PendingSuffix), signed);
            AtomicFile.WriteAllBytes(FilePath(group, ".manifest" + PendingSuffix), TransferManifestJson.Serialize(package.Manifest));
        }
        if (_groups.Length == 0)
            _logger.LogInformation("weight delta for {Model} {Version} computed but not published: the device is in no fleet group (Mqtt:FleetGroups)",
                baseBundle.Manifest.Name, updated.Manifest.Version);

        bool sent = _groups.Length > 0 && await SendPendingAsync(cancellationToken).ConfigureAwait(false);
        var publication = new DeltaPublication(package.Manifest.Sha256, signed.Length, updated.Bytes.Length, delta.ChangedElements,
            delta.Metadata.SampleCount, baseBundle.Manifest.Version, updated.Manifest.Version, _groups, sent);
        var perClass = new JsonObject();
        foreach (var (label, count) in classSamples.OrderBy(p => p.Key, StringComparer.Ordinal)) perClass[label] = count;
        await _events.PublishEventAsync("learn/delta-published", new JsonObject
        {
            ["name"] = baseBundle.Manifest.Name,
            ["base_version"] = publication.BaseVersion,
            ["base_sha256"] = baseBundle.BundleSha256,
            ["version"] = publication.UpdatedVersion,
            ["sha256"] = publication.Sha256,
            ["delta_bytes"] = publication.DeltaBytes,
            ["bundle_bytes"] = publication.BundleBytes,
            ["changed_elements"] = publication.ChangedElements,
            ["samples"] = publication.Samples,
            ["class_samples"] = perClass,
            ["groups"] = new JsonArray([.. _groups.Select(g => JsonValue.Create(g))]),
            ["sent"] = sent,
        }, cancellationToken).ConfigureAwait(false);
        return publication;
    }

    /// <summary>
    /// Publishes every stored delta not yet acknowledged: chunks, then the manifest, then clears the chunks of the
    /// delta it replaces. True when nothing is left waiting.
    /// </summary>
    public async Task<bool> SendPendingAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(_directory)) return true;
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            bool all = true;
            foreach (string group in _groups)
            {
                string deltaPath = FilePath(group, ".delta" + PendingSuffix), manifestPath = FilePath(group, ".manifest" + PendingSuffix);
                if (!File.Exists(deltaPath) || !File.Exists(manifestPath)) continue;
                if (!_connection.IsConnected) { all = false; continue; }
                var manifest = TransferManifestJson.Parse(await File.ReadAllBytesAsync(manifestPath, cancellationToken).ConfigureAwait(false));
                var package = TransferPackager.FromBytes(await File.ReadAllBytesAsync(deltaPath, cancellationToken).ConfigureAwait(false),
                    manifest.ChunkBytes, m => m with
                    {
                        Kind = manifest.Kind, Name = manifest.Name, Version = manifest.Version, BaseSha256 = manifest.BaseSha256,
                        Samples = manifest.Samples, Origin = manifest.Origin, PublishedUtc = manifest.PublishedUtc,
                    });
                string prefix = MqttTopics.FleetDelta(group, _connection.Topics.DeviceId);
                if (!await SendAsync(prefix, package, cancellationToken).ConfigureAwait(false)) { all = false; continue; }

                string publishedPath = FilePath(group, ".manifest" + PublishedSuffix);
                if (File.Exists(publishedPath))
                {
                    try
                    {
                        var previous = TransferManifestJson.Parse(await File.ReadAllBytesAsync(publishedPath, cancellationToken).ConfigureAwait(false));
                        if (previous.Sha256 != package.Manifest.Sha256)
                            for (int i = 0; i < previous.ChunkCount; i++)
                                await _connection.PublishAsync(new OutboundMessage(TransferTopics.Chunk(prefix, previous.Sha256, i), ReadOnlyMemory<byte>.Empty, Retain: true),
                                    cancellationToken).ConfigureAwait(false);
                    }
                    catch (TransferException e)
                    {
                        _logger.LogWarning("the record of the previous delta for group {Group} is unreadable ({Error}); its chunks stay on the broker", group, e.Message);
                    }
                }
                File.Move(manifestPath, publishedPath, overwrite: true);
                File.Move(deltaPath, FilePath(group, ".delta" + PublishedSuffix), overwrite: true);
                _logger.LogInformation("published weight delta {Sha} ({Bytes} bytes, {Samples} samples on base {Base}) to {Prefix}",
                    package.Manifest.Sha256[..16], package.Manifest.Bytes, package.Manifest.Samples, package.Manifest.BaseSha256![..16], prefix);
            }
            return all;
        }
        finally
        {
            _sending.Release();
        }
    }

    private async Task<bool> SendAsync(string prefix, TransferPackager package, CancellationToken cancellationToken)
    {
        for (int i = 0; i < package.Manifest.ChunkCount; i++)
            if (!await _connection.PublishAsync(new OutboundMessage(TransferTopics.Chunk(prefix, package.Manifest.Sha256, i), package.Chunk(i), Retain: true),
                    cancellationToken).ConfigureAwait(false))
                return false;
        return await _connection.PublishAsync(new OutboundMessage(TransferTopics.Manifest(prefix), TransferManifestJson.Serialize(package.Manifest), Retain: true),
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The device's own key: loaded from <see cref="MqttOptions.DeltaSigningKeyFile"/>, or generated there on first use
    /// (mode 0600, with the public key beside it as <c>.pub</c> for the aggregator's trusted keys).
    /// </summary>
    private BundleSigningKey SigningKey()
    {
        if (_key is not null) return _key;
        if (_keyFile is null) throw new InvalidOperationException("Mqtt:DeltaSigningKeyFile is not set, so this device cannot sign weight deltas");
        if (!File.Exists(_keyFile))
        {
            using var generated = BundleSigningKey.Generate();
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(_keyFile))!);
            AtomicFile.WriteAllText(_keyFile, generated.ExportPrivatePem(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            AtomicFile.WriteAllText(_keyFile + ".pub", generated.PublicKey.ExportPem(),
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            _logger.LogInformation("generated the device's delta signing key {KeyId} at {Path}; add {PublicKey} to the aggregator's trusted keys",
                generated.PublicKey.KeyIdHex[..16], _keyFile, _keyFile + ".pub");
        }
        return _key = BundleSigningKey.FromFile(_keyFile);
    }

    private string FilePath(string group, string suffix) => Path.Combine(_directory, group + suffix);

    public void Dispose()
    {
        _key?.Dispose();
        _sending.Dispose();
    }
}
