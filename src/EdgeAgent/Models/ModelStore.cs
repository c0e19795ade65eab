using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeAgent.Daemon.Models;

/// <summary>
/// File-system implementation of <see cref="IModelStore"/>. Layout per model:
/// <code>
/// &lt;name&gt;/current            the active version (one line), replaced by write + fsync + rename
/// &lt;name&gt;/history            versions in activation order, newest last (replaced the same way)
/// &lt;name&gt;/&lt;version&gt;/model.eab  the bundle
/// &lt;name&gt;/&lt;version&gt;/meta.json  sha256, size, install time, parent
/// &lt;name&gt;/&lt;version&gt;/bad        present when the version failed to verify or load, with the reason
/// </code>
/// New versions are assembled in <c>.staging-*</c> and renamed into place; removed ones are renamed to
/// <c>.trash-*</c> before deletion, so a directory named like a version is always complete.
/// </summary>
public sealed class ModelStore : IModelStore
{
    public const string BundleFileName = "model.eab";
    private const string MetaFileName = "meta.json";
    private const string BadFileName = "bad";
    private const string CurrentFileName = "current";
    private const string HistoryFileName = "history";
    private const int HistoryLength = 32;

    private readonly IBundleVerifier? _verifier;
    private readonly TimeProvider _time;
    private readonly object _gate = new();

    /// <param name="keep">How many versions to keep per model (at least 2: the current one and a rollback target).</param>
    public ModelStore(string root, int keep, IBundleVerifier? verifier, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 2);
        Root = Path.GetFullPath(root);
        Keep = keep;
        _verifier = verifier;
        _time = time ?? TimeProvider.System;
        Directory.CreateDirectory(Root);
        RemoveLeftovers();
    }

    public string Root { get; }

    public int Keep { get; }

    public IReadOnlyList<string> ModelNames() =>
        Directory.EnumerateDirectories(Root).Select(Path.GetFileName).OfType<string>()
            .Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal).ToArray();

    public IReadOnlyList<StoredModel> List(string name)
    {
        ValidateSegment(name, "model name");
        string modelDirectory = Path.Combine(Root, name);
        if (!Directory.Exists(modelDirectory)) return [];
        var models = new List<StoredModel>();
        foreach (var directory in Directory.EnumerateDirectories(modelDirectory))
        {
            string version = Path.GetFileName(directory);
            if (version.StartsWith('.')) continue;
            var model = TryReadModel(name, version);
            if (model is not null) models.Add(model);
        }
        models.Sort((a, b) => ModelVersionComparer.Instance.Compare(b.Version, a.Version));
        return models;
    }

    public StoredModel? GetCurrent(string name)
    {
        string? version = ReadCurrentVersion(name);
        return version is null ? null : TryReadModel(name, version);
    }

    public StoredModel Install(string name, string version, string bundleFile, string? parentVersion)
    {
        ValidateSegment(name, "model name");
        ValidateSegment(version, "model version");
        if (!File.Exists(bundleFile)) throw new ModelStoreException($"bundle '{bundleFile}' does not exist");
        string? refusal = _verifier?.Verify(bundleFile).Error;
        if (refusal is not null) throw new ModelStoreException($"bundle '{bundleFile}' refused: {refusal}");

        lock (_gate)
        {
            string modelDirectory = Path.Combine(Root, name);
            Directory.CreateDirectory(modelDirectory);
            string sha256 = HashFile(bundleFile);
            var existing = TryReadModel(name, version);
            if (existing is not null)
            {
                if (existing.Sha256 == sha256) return existing;
                throw new ModelStoreException(
                    $"{name} {version} is already installed with different content (sha256 {existing.Sha256[..12]}…, new {sha256[..12]}…); versions are immutable");
            }

            string staging = Path.Combine(modelDirectory, $".staging-{version}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(staging);
            DurableFile.CopyAndSync(bundleFile, Path.Combine(staging, BundleFileName));
            long size = new FileInfo(bundleFile).Length;
            var meta = new JsonObject
            {
                ["name"] = name,
                ["version"] = version,
                ["sha256"] = sha256,
                ["size_bytes"] = size,
                ["installed_at"] = _time.GetUtcNow().ToString("O"),
                ["parent"] = parentVersion,
            };
            DurableFile.WriteAllText(Path.Combine(staging, MetaFileName), meta.ToJsonString());
            DurableFile.FsyncDirectory(staging);
            string final = Path.Combine(modelDirectory, version);
            if (Directory.Exists(final)) MoveToTrashAndDelete(final); // a version directory without valid meta: debris
            Directory.Move(staging, final);
            DurableFile.FsyncDirectory(modelDirectory);
            return TryReadModel(name, version)
                ?? throw new ModelStoreException($"{name} {version} did not read back after install");
        }
    }

    public StoredModel Activate(string name, string version)
    {
        lock (_gate)
        {
            var model = TryReadModel(name, version)
                ?? throw new ModelStoreException($"{name} {version} is not installed (have: {string.Join(", ", List(name).Select(m => m.Version))})");
            if (model.IsBad) throw new ModelStoreException($"{name} {version} is marked bad: {model.BadReason}");
            var history = ReadHistory(name);
            history.Remove(version);
            history.Add(version);
            if (history.Count > HistoryLength) history.RemoveRange(0, history.Count - HistoryLength);
            // History first: if we die between the two writes the pointer still names the old version, and
            // the extra history entry only makes the new version a fallback candidate it already was.
            DurableFile.WriteAllText(Path.Combine(Root, name, HistoryFileName), string.Join('\n', history) + "\n");
            DurableFile.WriteAllText(Path.Combine(Root, name, CurrentFileName), version + "\n");
            Prune(name, version, history);
            return model;
        }
    }

    public StoredModel Rollback(string name, string? toVersion)
    {
        lock (_gate)
        {
            string? current = ReadCurrentVersion(name);
            if (toVersion is null)
            {
                var history = ReadHistory(name);
                toVersion = history.AsEnumerable().Reverse()
                    .Where(v => v != current)
                    .FirstOrDefault(v => TryReadModel(name, v) is { IsBad: false })
                    ?? throw new ModelStoreException($"{name}: no earlier good version to roll back to");
            }
            if (toVersion == current) throw new ModelStoreException($"{name} {toVersion} is already current");
            return Activate(name, toVersion);
        }
    }

    public void MarkBad(string name, string version, string reason)
    {
        lock (_gate)
        {
            string directory = Path.Combine(Root, name, version);
            if (!Directory.Exists(directory)) throw new ModelStoreException($"{name} {version} is not installed");
            DurableFile.WriteAllText(Path.Combine(directory, BadFileName), reason + "\n");
        }
    }

    public ModelResolution? ResolveServable(string name, Func<StoredModel, string?> tryLoad)
    {
        lock (_gate)
        {
            var skipped = new List<string>();
            string? current = ReadCurrentVersion(name);
            var candidates = new List<string>();
            if (current is not null) candidates.Add(current);
            candidates.AddRange(ReadHistory(name).AsEnumerable().Reverse());
            candidates.AddRange(List(name).Select(m => m.Version));
            foreach (var version in candidates.Distinct())
            {
                var model = TryReadModel(name, version);
                if (model is null)
                {
                    if (version == current) skipped.Add($"{version}: named by 'current' but not installed");
                    continue;
                }
                if (model.IsBad)
                {
                    skipped.Add($"{version}: marked bad ({model.BadReason})");
                    continue;
                }
                string? failure = CheckIntegrity(model) ?? _verifier?.Verify(model.BundlePath).Error ?? tryLoad(model);
                if (failure is not null)
                {
                    skipped.Add($"{version}: {failure}");
                    MarkBad(name, version, failure);
                    continue;
                }
                if (version != current) Activate(name, version);
                return new ModelResolution(model, skipped);
            }
            return null;
        }
    }

    /// <summary>Recomputes the bundle's SHA-256 against its metadata; null when intact.</summary>
    public static string? CheckIntegrity(StoredModel model)
    {
        if (!File.Exists(model.BundlePath)) return $"'{model.BundlePath}' is missing";
        long size = new FileInfo(model.BundlePath).Length;
        if (size != model.SizeBytes) return $"'{model.BundlePath}' has {size} bytes, metadata says {model.SizeBytes}";
        string sha = HashFile(model.BundlePath);
        return sha == model.Sha256 ? null : $"'{model.BundlePath}' sha256 {sha[..12]}… does not match metadata {model.Sha256[..12]}…";
    }

    private StoredModel? TryReadModel(string name, string version)
    {
        if (!IsValidSegment(version)) return null;
        string directory = Path.Combine(Root, name, version);
        string metaPath = Path.Combine(directory, MetaFileName);
        if (!File.Exists(metaPath)) return null;
        try
        {
            var meta = JsonNode.Parse(File.ReadAllText(metaPath))!.AsObject();
            string badPath = Path.Combine(directory, BadFileName);
            string? bad = File.Exists(badPath) ? File.ReadAllText(badPath).Trim() : null;
            return new StoredModel(
                name,
                version,
                directory,
                (string?)meta["sha256"] ?? throw new JsonException("no sha256"),
                (long?)meta["size_bytes"] ?? throw new JsonException("no size_bytes"),
                DateTimeOffset.Parse((string?)meta["installed_at"] ?? throw new JsonException("no installed_at"), System.Globalization.CultureInfo.InvariantCulture),
                (string?)meta["parent"],
                bad);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidOperationException or IOException)
        {
            return null;
        }
    }

    private string? ReadCurrentVersion(string name)
    {
        ValidateSegment(name, "model name");
        string path = Path.Combine(Root, name, CurrentFileName);
        if (!File.Exists(path)) return null;
        string version = File.ReadAllText(path).Trim();
        return IsValidSegment(version) ? version : null;
    }

    private List<string> ReadHistory(string name)
    {
        string path = Path.Combine(Root, name, HistoryFileName);
        if (!File.Exists(path)) return [];
        return File.ReadAllLines(path).Select(l => l.Trim()).Where(IsValidSegment).ToList();
    }

    /// <summary>Keeps the current version, the newest rollback target and the newest K overall.</summary>
    private void Prune(string name, string current, List<string> history)
    {
        var keep = new HashSet<string>(StringComparer.Ordinal) { current };
        var rollbackTarget = history.AsEnumerable().Reverse().FirstOrDefault(v => v != current && TryReadModel(name, v) is { IsBad: false });
        if (rollbackTarget is not null) keep.Add(rollbackTarget);
        foreach (var model in List(name).OrderByDescending(m => m.InstalledAt))
        {
            if (keep.Count >= Keep) break;
            keep.Add(model.Version);
        }
        foreach (var model in List(name))
            if (!keep.Contains(model.Version)) MoveToTrashAndDelete(model.Directory);
    }

    private static void MoveToTrashAndDelete(string directory)
    {
        string parent = Path.GetDirectoryName(directory)!;
        string trash = Path.Combine(parent, $".trash-{Path.GetFileName(directory)}-{Guid.NewGuid():N}");
        Directory.Move(directory, trash);
        DurableFile.FsyncDirectory(parent);
        Directory.Delete(trash, recursive: true);
    }

    /// <summary>Removes what an interrupted install, prune or pointer write left behind.</summary>
    private void RemoveLeftovers()
    {
        foreach (var modelDirectory in Directory.EnumerateDirectories(Root))
        {
            foreach (var debris in Directory.EnumerateDirectories(modelDirectory))
            {
                string leaf = Path.GetFileName(debris);
                if (leaf.StartsWith(".staging-", StringComparison.Ordinal) || leaf.StartsWith(".trash-", StringComparison.Ordinal))
                    Directory.Delete(debris, recursive: true);
                else
                    foreach (var file in Directory.EnumerateFiles(debris).Where(f => DurableFile.IsTemporary(Path.GetFileName(f))))
                        File.Delete(file);
            }
            foreach (var file in Directory.EnumerateFiles(modelDirectory).Where(f => DurableFile.IsTemporary(Path.GetFileName(f))))
                File.Delete(file);
        }
    }

    private static string HashFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    private static bool IsValidSegment(string segment) =>
        segment.Length is > 0 and <= 64 && !segment.StartsWith('.') &&
        segment.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or '+') &&
        segment is not (CurrentFileName or HistoryFileName);

    private static void ValidateSegment(string segment, string what)
    {
        if (!IsValidSegment(segment))
            throw new ModelStoreException($"{what} '{segment}' is not allowed: use 1-64 of [A-Za-z0-9._+-], not starting with '.'");
    }
}
