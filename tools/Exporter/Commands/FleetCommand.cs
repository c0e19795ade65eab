using System.Buffers;
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Deltas;
using EdgeAgent.Compression.Distribution;
using EdgeAgent.Compression.IO;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Exporter.Cli;
using EdgeAgent.Exporter.Mqtt;

namespace EdgeAgent.Exporter.Commands;

/// <summary>
/// exporter fleet aggregate --group G --broker URL --key FLEET.pem --device-keys DIR: federated averaging over MQTT.
/// Reads the group's current fleet model and every device's retained delta, keeps the deltas bound to that model and
/// signed by a trusted device key, averages them weighted by their sample counts, signs the result with the fleet key
/// and publishes it as the group's next version; the deltas that went into it are then cleared from the broker.
/// </summary>
internal static class FleetCommand
{
    public static Command Create()
    {
        var fleet = new Command("fleet", "Fleet operations over MQTT.");
        fleet.Subcommands.Add(CreateAggregate());
        return fleet;
    }

    private static Command CreateAggregate()
    {
        var group = new Option<string>("--group") { Description = "The fleet group whose deltas are averaged.", Required = true, HelpName = "G" };
        var key = new Option<string>("--key") { Description = "The fleet's private key (exporter keygen); signs the new version.", Required = true, HelpName = "KEY" };
        var deviceKeys = new Option<string[]>("--device-keys")
        {
            Description = "Trusted device public key (.pub) or a directory of them; repeat for several. Deltas signed by other keys are refused.",
            Required = true,
            HelpName = "KEY.pub|DIR",
        };
        var baseBundle = new Option<string?>("--base")
        {
            Description = "The base bundle the deltas were made on. Default: the bundle retained at edgeagent/fleet/G/model.",
            HelpName = "MODEL.eab",
        };
        var trusted = new Option<string[]>("--trusted-keys")
        {
            Description = "Keys the base bundle must be signed by (.pub or directory). Default: the public half of --key.",
            HelpName = "KEY.pub|DIR",
        };
        var minDevices = new Option<int>("--min-devices") { Description = "Fail unless at least this many deltas are usable.", DefaultValueFactory = _ => 1, HelpName = "N" };
        var version = new Option<string?>("--version") { Description = "Version of the fleet model. Default: the next release above the base and every contributor's version.", HelpName = "V" };
        var output = new Option<string?>("--output", "-o") { Description = "Also write the new bundle here.", HelpName = "MODEL.eab" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Aggregate and report (and write --output), but publish nothing and clear nothing." };
        var keepDeltas = new Option<bool>("--keep-deltas") { Description = "Leave the averaged deltas retained on the broker." };
        var collect = new Option<double>("--collect-seconds")
        {
            Description = "How long to wait for retained delta manifests after the last one arrived.",
            DefaultValueFactory = _ => 1.0,
            HelpName = "SECONDS",
        };
        var chunk = new Option<int>("--chunk-bytes") { Description = "Chunk size of the published model.", DefaultValueFactory = _ => TransferManifest.DefaultChunkBytes, HelpName = "BYTES" };
        var json = new Option<string?>("--json") { Description = "Write a JSON summary (contributions, sizes, version) here.", HelpName = "FILE" };
        var broker = new BrokerOptions();
        var command = new Command("aggregate",
            "Average the devices' signed weight deltas (FedAvg, weighted by samples) into a new signed fleet version and publish it.")
        {
            group, key, deviceKeys, baseBundle, trusted, minDevices, version, output, dryRun, keepDeltas, collect, chunk, json,
        };
        broker.AddTo(command);
        command.SetAction(parse => ExporterCli.Guard("fleet aggregate", () =>
        {
            string groupName = parse.GetValue(group)!;
            try { TransferTopics.Segment(groupName, "--group"); }
            catch (TransferException e) { throw new UsageException(e.Message); }
            int min = parse.GetValue(minDevices);
            if (min < 1) throw new UsageException("--min-devices must be at least 1");
            double collectSeconds = parse.GetValue(collect);
            if (collectSeconds is <= 0 or > 600) throw new UsageException("--collect-seconds must be in (0, 600]");
            int chunkBytes = parse.GetValue(chunk);
            if (chunkBytes is < 1024 or > TransferManifest.MaxChunkBytes) throw new UsageException($"--chunk-bytes must be in 1024..{TransferManifest.MaxChunkBytes}");
            var request = new AggregateRequest(
                groupName,
                Paths.ExistingFile(parse.GetValue(key), "--key"),
                parse.GetValue(deviceKeys) ?? [],
                parse.GetValue(baseBundle) is { } b ? Paths.ExistingFile(b, "--base") : null,
                parse.GetValue(trusted) ?? [],
                min,
                parse.GetValue(version),
                parse.GetValue(output) is { } o ? Paths.OutputFile(o, "--output") : null,
                parse.GetValue(dryRun),
                parse.GetValue(keepDeltas),
                TimeSpan.FromSeconds(collectSeconds),
                chunkBytes,
                parse.GetValue(json) is { } j ? Paths.OutputFile(j, "--json") : null);
            return AggregateAsync(broker.Read(parse), request).GetAwaiter().GetResult();
        }));
        return command;
    }

    private sealed record AggregateRequest(string Group, string KeyPath, string[] DeviceKeys, string? BasePath, string[] TrustedKeys, int MinDevices,
        string? Version, string? OutputPath, bool DryRun, bool KeepDeltas, TimeSpan Collect, int ChunkBytes, string? JsonPath);

    private static TrustedKeySet LoadKeys(IEnumerable<string> entries, string option)
    {
        var keys = new TrustedKeySet();
        foreach (var entry in entries)
        {
            if (Directory.Exists(entry)) { foreach (var k in TrustedKeySet.FromDirectory(entry).Keys) keys.Add(k); }
            else keys.Add(BundlePublicKey.FromFile(Paths.ExistingFile(entry, option)));
        }
        return keys;
    }

    private static async Task<int> AggregateAsync(BrokerSettings settings, AggregateRequest request)
    {
        var clock = Stopwatch.StartNew();
        var ct = CancellationToken.None;
        using var fleetKey = BundleSigningKey.FromFile(request.KeyPath);
        using var deviceKeys = LoadKeys(request.DeviceKeys, "--device-keys");
        if (deviceKeys.Count == 0) throw new UsageException("no public keys found in the --device-keys arguments");
        using var trusted = request.TrustedKeys.Length > 0 ? LoadKeys(request.TrustedKeys, "--trusted-keys") : new TrustedKeySet([fleetKey.PublicKey]);
        string modelPrefix = TransferTopics.FleetModel(request.Group);

        await using var channel = await BrokerChannel.ConnectAsync(settings, ct).ConfigureAwait(false);
        ModelBundle baseBundle;
        if (request.BasePath is not null)
        {
            baseBundle = ModelBundle.ReadFile(request.BasePath);
        }
        else
        {
            var retained = await channel.ReadRetainedAsync(TransferTopics.Manifest(modelPrefix), ct).ConfigureAwait(false);
            if (retained is not { Length: > 0 })
                throw new CommandFailedException($"no model is retained at {TransferTopics.Manifest(modelPrefix)}; give the base the deltas were made on with --base MODEL.eab");
            var manifest = RetainedTransfer.ParseManifest(TransferTopics.Manifest(modelPrefix), retained);
            baseBundle = ModelBundle.Read(await RetainedTransfer.FetchAsync(channel, modelPrefix, manifest, TimeSpan.FromSeconds(60), ct).ConfigureAwait(false));
        }
        try { baseBundle.Verify(trusted); }
        catch (BundleException e)
        {
            throw new CommandFailedException($"the base {baseBundle.Manifest.Name} {baseBundle.Manifest.Version} is not signed by a trusted fleet key: {e.Message}", e);
        }
        string baseSha = baseBundle.BundleSha256;
        Console.Out.WriteLine($"base {baseBundle.Manifest.Name} {baseBundle.Manifest.Version} ({baseBundle.Bytes.Length} bytes, sha256 {baseSha[..16]}…)" +
            (request.BasePath is null ? $" from {modelPrefix}" : $" from {request.BasePath}"));

        // Every device's latest delta; those made on another base wait for theirs (they are left on the broker).
        var manifests = await channel.ReadRetainedMatchingAsync(TransferTopics.FleetDeltaManifests(request.Group), request.Collect,
            request.Collect + TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        var submissions = new List<(DeltaSubmission Submission, string Prefix, TransferManifest Manifest)>();
        var skipped = new List<DeltaRejection>();
        foreach (var message in manifests)
        {
            string prefix = message.Topic[..^"/manifest".Length];
            string device = prefix[(prefix.LastIndexOf('/') + 1)..];
            TransferManifest manifest;
            try { manifest = RetainedTransfer.ParseManifest(message.Topic, message.Payload.ToArray()); }
            catch (CommandFailedException e) { skipped.Add(new DeltaRejection(device, e.Message)); continue; }
            if (manifest.Kind != TransferKinds.Delta) { skipped.Add(new DeltaRejection(device, $"its manifest is a '{manifest.Kind}', not a delta")); continue; }
            if (manifest.BaseSha256 != baseSha)
            {
                skipped.Add(new DeltaRejection(device, $"made on another base (bundle {manifest.BaseSha256![..16]}…), left for a later round"));
                continue;
            }
            try
            {
                byte[] bytes = await RetainedTransfer.FetchAsync(channel, prefix, manifest, TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
                submissions.Add((new DeltaSubmission(device, manifest.Version, bytes), prefix, manifest));
            }
            catch (CommandFailedException e) { skipped.Add(new DeltaRejection(device, e.Message)); }
        }

        FleetVersion result;
        try
        {
            result = FleetAggregation.Aggregate(baseBundle, [.. submissions.Select(s => s.Submission)], deviceKeys, fleetKey,
                $"exporter {Program.Version} fleet aggregate", request.MinDevices, request.Version);
        }
        catch (FleetAggregationException e)
        {
            foreach (var s in skipped) Console.Error.WriteLine($"  skipped {s.Origin}: {s.Reason}");
            throw new CommandFailedException($"group '{request.Group}': {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            throw new CommandFailedException($"group '{request.Group}': the deltas cannot be averaged: {e.Message}", e);
        }

        long bundleBytes = baseBundle.Bytes.Length;
        var contributions = new List<Contribution>();
        for (int i = 0; i < result.Accepted.Count; i++)
        {
            var s = result.Accepted[i];
            var delta = result.Contributions[i];
            contributions.Add(new Contribution(s.Origin, s.UpdatedVersion, delta.Metadata.SampleCount, s.Bytes.Length,
                Math.Round((double)s.Bytes.Length / bundleBytes, 6), delta.ChangedElements));
            Console.Out.WriteLine($"  {s.Origin}: {s.UpdatedVersion}, {delta.Metadata.SampleCount} samples, delta {s.Bytes.Length} bytes " +
                $"({100.0 * s.Bytes.Length / bundleBytes:0.00}% of the bundle), weight {(double)delta.Metadata.SampleCount / result.TotalSamples:0.000}");
        }
        foreach (var r in skipped.Concat(result.Rejected)) Console.Out.WriteLine($"  skipped {r.Origin}: {r.Reason}");
        Console.Out.WriteLine($"fleet version {baseBundle.Manifest.Name} {result.Version}: {result.Accepted.Count} device(s), {result.TotalSamples} samples " +
            $"({string.Join(", ", result.ClassSamples.Select(p => $"{p.Key} {p.Value}"))}), {result.Bundle.Length} bytes");

        if (request.OutputPath is not null) AtomicFile.WriteAllBytes(request.OutputPath, result.Bundle);
        var package = TransferPackager.FromBytes(result.Bundle, request.ChunkBytes,
            m => m with { Name = baseBundle.Manifest.Name, Version = result.Version, Origin = "exporter " + Program.Version + " fleet aggregate" });
        if (!request.DryRun)
        {
            await TransferPublisher.PublishAsync(channel, modelPrefix, package, ct).ConfigureAwait(false);
            Console.Out.WriteLine($"published {result.Version} (sha256 {package.Manifest.Sha256[..16]}…) to {modelPrefix}");
            if (!request.KeepDeltas)
            {
                foreach (var (submission, prefix, _) in submissions.Where(s => result.Accepted.Contains(s.Submission)))
                    await TransferPublisher.ClearAsync(channel, prefix, ct).ConfigureAwait(false);
                Console.Out.WriteLine($"cleared the {result.Accepted.Count} averaged delta(s)");
            }
        }
        if (request.JsonPath is not null)
        {
            var summary = new AggregateSummary(request.Group, baseBundle.Manifest.Name, baseBundle.Manifest.Version, baseSha, result.Version,
                package.Manifest.Sha256, bundleBytes, result.Bundle.Length, result.TotalSamples, new Dictionary<string, long>(result.ClassSamples),
                contributions, [.. skipped.Concat(result.Rejected).Select(r => new Skipped(r.Origin, r.Reason))], !request.DryRun,
                Math.Round(clock.Elapsed.TotalSeconds, 3));
            AtomicFile.WriteAllBytes(request.JsonPath, JsonSerializer.SerializeToUtf8Bytes(summary, FleetJsonContext.Default.AggregateSummary));
        }
        return ExitCodes.Success;
    }
}
