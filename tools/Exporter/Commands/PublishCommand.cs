using System.Buffers;
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Distribution;
using EdgeAgent.Exporter.Cli;
using EdgeAgent.Exporter.Mqtt;

namespace EdgeAgent.Exporter.Commands;

/// <summary>
/// exporter publish MODEL.eab --broker URL (--device ID | --fleet GROUP): publishes the bundle as a retained transfer
/// (chunks, then manifest), clears the chunks of the bundle it replaces, and optionally waits for the device's verdict.
/// </summary>
internal static class PublishCommand
{
    public static Command Create()
    {
        var bundle = new Argument<string>("bundle") { Description = "The signed bundle (.eab) to publish.", HelpName = "MODEL.eab" };
        var device = new Option<string?>("--device") { Description = "Address one device (its id).", HelpName = "ID" };
        var fleet = new Option<string?>("--fleet") { Description = "Address every device of a fleet group.", HelpName = "GROUP" };
        var chunk = new Option<int>("--chunk-bytes") { Description = "Chunk size; keep under the broker's message limit.", DefaultValueFactory = _ => TransferManifest.DefaultChunkBytes, HelpName = "BYTES" };
        var wait = new Option<double>("--wait") { Description = "With --device: wait up to this many seconds for the device to install or reject it.", HelpName = "SECONDS" };
        var broker = new BrokerOptions();
        var command = new Command("publish", "Publish a signed bundle to devices over MQTT (retained manifest and chunks).") { bundle, device, fleet, chunk, wait };
        broker.AddTo(command);
        command.SetAction(parse => ExporterCli.Guard("publish", () =>
        {
            string path = Paths.ExistingFile(parse.GetValue(bundle), "bundle");
            string? deviceId = parse.GetValue(device), group = parse.GetValue(fleet);
            if ((deviceId is null) == (group is null)) throw new UsageException("give exactly one of --device ID or --fleet GROUP");
            double waitSeconds = parse.GetValue(wait);
            if (waitSeconds < 0) throw new UsageException("--wait must not be negative");
            if (waitSeconds > 0 && deviceId is null) throw new UsageException("--wait needs --device (a fleet answers from many devices)");
            string prefix;
            try { prefix = deviceId is not null ? TransferTopics.DeviceModel(deviceId) : TransferTopics.FleetModel(group!); }
            catch (TransferException e) { throw new UsageException(e.Message); }
            var settings = broker.Read(parse);
            // Read it as the device will, so a broken bundle never reaches the broker.
            var model = ModelBundle.ReadFile(path);
            TransferPackager package;
            try
            {
                package = TransferPackager.FromBytes(model.Bytes.ToArray(), parse.GetValue(chunk),
                    m => m with { Name = model.Manifest.Name, Version = model.Manifest.Version, Origin = "exporter " + Program.Version });
            }
            catch (TransferException e) { throw new UsageException(e.Message); }
            return PublishAsync(settings, prefix, deviceId, package, waitSeconds).GetAwaiter().GetResult();
        }));
        return command;
    }

    private static async Task<int> PublishAsync(BrokerSettings settings, string prefix, string? deviceId, TransferPackager package, double waitSeconds)
    {
        var manifest = package.Manifest;
        var clock = Stopwatch.StartNew();
        await using var channel = await BrokerChannel.ConnectAsync(settings, CancellationToken.None).ConfigureAwait(false);
        if (waitSeconds > 0) await channel.SubscribeAsync($"{TransferTopics.Root}/{deviceId}/events", CancellationToken.None).ConfigureAwait(false);
        var previous = await TransferPublisher.PublishAsync(channel, prefix, package, CancellationToken.None).ConfigureAwait(false);
        Console.Out.WriteLine($"published {manifest.Name} {manifest.Version} ({manifest.Bytes} bytes, sha256 {manifest.Sha256[..16]}…) to {prefix}: " +
            $"{manifest.ChunkCount} chunks in {clock.Elapsed.TotalSeconds:0.000} s");
        if (previous is not null && previous.Sha256 != manifest.Sha256)
            Console.Out.WriteLine($"  replaced {previous.Name} {previous.Version} ({previous.Sha256[..16]}…) and cleared its {previous.ChunkCount} chunks");
        if (waitSeconds <= 0) return ExitCodes.Success;

        var verdict = await channel.WaitForAsync(m =>
        {
            try
            {
                using var e = JsonDocument.Parse(m.Payload.ToArray());
                return e.RootElement.TryGetProperty("sha256", out var sha) && sha.GetString() == manifest.Sha256
                    && e.RootElement.TryGetProperty("type", out var type) && type.GetString() is "model/installed" or "model/rejected";
            }
            catch (JsonException) { return false; }
        }, TimeSpan.FromSeconds(waitSeconds), CancellationToken.None).ConfigureAwait(false);
        if (verdict is null)
        {
            Console.Error.WriteLine($"exporter publish: device '{deviceId}' did not report within {waitSeconds} s (offline? it will fetch the retained bundle when it connects)");
            return ExitCodes.Failure;
        }
        using var answer = JsonDocument.Parse(verdict.Payload.ToArray());
        if (answer.RootElement.GetProperty("type").GetString() == "model/installed")
        {
            Console.Out.WriteLine($"  device '{deviceId}' installed it {clock.Elapsed.TotalSeconds:0.000} s after publishing began");
            return ExitCodes.Success;
        }
        Console.Error.WriteLine($"exporter publish: device '{deviceId}' rejected it: {answer.RootElement.GetProperty("reason").GetString()}");
        return ExitCodes.Failure;
    }
}
