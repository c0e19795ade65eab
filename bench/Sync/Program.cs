using System.Text.Json.Nodes;
using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Deltas;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Daemon.Mqtt;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Bench.Sync;

/// <summary>
/// edgeagent-bench-sync prepare DIR — a signing key, its public key, 5 MB bundles and a head-only delta;
/// edgeagent-bench-sync device --broker URL --device ID --dir DIR --trust DIR — a device that installs what it is sent.
/// </summary>
public static class Program
{
    private const int BundleBytes = 5 * 1024 * 1024;

    public static async Task<int> Main(string[] args)
    {
        switch (args)
        {
            case ["prepare", var dir]:
                Prepare(dir);
                return 0;
            case ["device", .. var rest]:
                return await RunDeviceAsync(Options(rest));
            default:
                Console.Error.WriteLine("usage: edgeagent-bench-sync prepare DIR | device --broker URL --device ID --dir DIR --trust DIR");
                return 2;
        }
    }

    private static Dictionary<string, string> Options(string[] args)
    {
        var options = new Dictionary<string, string>();
        for (int i = 0; i + 1 < args.Length; i += 2) options[args[i].TrimStart('-')] = args[i + 1];
        return options;
    }

    private static void Prepare(string dir)
    {
        Directory.CreateDirectory(Path.Combine(dir, "trusted"));
        using var key = BundleSigningKey.Generate();
        File.WriteAllText(Path.Combine(dir, "trusted", "bench.pub"), key.PublicKey.ExportPem());
        var random = new Random(42);
        foreach (string version in new[] { "1.0.0", "2.0.0", "3.0.0", "4.0.0" })
        {
            var model = new byte[BundleBytes - 2048];
            random.NextBytes(model);
            var manifest = new BundleManifest
            {
                Name = "bench",
                Version = version,
                ModelFormat = "onnx",
                ModelSha256 = "",
                ModelBytes = model.Length,
                Inputs = [new TensorSpec { Name = "x", ElementType = "float32", Shape = [1, 256] }],
                Outputs = [new TensorSpec { Name = "y", ElementType = "float32", Shape = [1, 8] }],
                CreatedUtc = "2026-11-23T00:00:00Z",
                Producer = "edgeagent-bench-sync",
            };
            File.WriteAllBytes(Path.Combine(dir, $"bench-{version}.eab"), ModelBundle.Create(manifest, model, key));
        }
        // A head-only update: a 256x8 int8 dense layer and its int32 bias retrained, the backbone untouched.
        var weights = new sbyte[256 * 8];
        var bias = new int[8];
        for (int i = 0; i < weights.Length; i++) weights[i] = (sbyte)random.Next(-127, 128);
        for (int i = 0; i < bias.Length; i++) bias[i] = random.Next(-5000, 5000);
        var updatedWeights = weights.Select(w => (sbyte)Math.Clamp(w + random.Next(-3, 4), -127, 127)).ToArray();
        var updatedBias = bias.Select(b => b + random.Next(-50, 51)).ToArray();
        var delta = WeightDelta.Compute(
            [WeightTensor.FromInt8("head.weight", [8, 256], weights), WeightTensor.FromInt32("head.bias", [8], bias)],
            [WeightTensor.FromInt8("head.weight", [8, 256], updatedWeights), WeightTensor.FromInt32("head.bias", [8], updatedBias)],
            new DeltaMetadata
            {
                ModelName = "bench",
                BaseVersion = "1.0.0",
                BaseModelSha256 = new string('0', 64),
                SampleCount = 200,
                Producer = "edgeagent-bench-sync",
                CreatedUtc = "2026-11-23T00:00:00Z",
            });
        File.WriteAllBytes(Path.Combine(dir, "head.ead"), delta.Sign(key));
    }

    private static async Task<int> RunDeviceAsync(Dictionary<string, string> options)
    {
        string dir = options["dir"];
        var store = new BenchModelStore(Path.Combine(dir, "models"));
        using var trusted = TrustedKeySet.FromDirectory(options["trust"]);
        var mqtt = new MqttOptions
        {
            Broker = options["broker"],
            DeviceId = options["device"],
            OutboxPath = Path.Combine(dir, "outbox.db"),
            TransferDirectory = Path.Combine(dir, "transfers"),
            ReconnectMinMs = 50,
            ReconnectMaxMs = 1000,
        };
        using var loggers = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
        await using var plane = new MqttControlPlane(mqtt, new BenchDevice(() => store.Current), store, new EabBundleVerifier(trusted), loggers, "bench");
        await plane.StartAsync(CancellationToken.None);
        await plane.Connection.WaitConnectedAsync(TimeSpan.FromSeconds(10));
        Console.WriteLine("ready");
        var stop = new TaskCompletionSource();
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, c => { c.Cancel = true; stop.TrySetResult(); });
        await stop.Task;
        return 0;
    }
}
