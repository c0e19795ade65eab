using System.CommandLine;
using EdgeAgent.Compression.Bundles;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Exporter.Cli;

namespace EdgeAgent.Exporter.Commands;

/// <summary>exporter verify MODEL.eab --pub KEY.pub: structure, model hash and signature.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var bundle = new Argument<string>("bundle") { Description = "The bundle (.eab) to check.", HelpName = "MODEL.eab" };
        var pub = new Option<string[]>("--pub")
        {
            Description = "Trusted public key file (.pub) or a directory of them; repeat for several.",
            Required = true,
            HelpName = "KEY.pub",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("verify", "Check that a bundle is intact and signed by a trusted key.") { bundle, pub };
        command.SetAction(parse => ExporterCli.Guard("verify", () =>
        {
            var path = Paths.ExistingFile(parse.GetValue(bundle), "bundle");
            using var trusted = new TrustedKeySet();
            foreach (var p in parse.GetValue(pub) ?? [])
            {
                if (Directory.Exists(p)) { foreach (var k in TrustedKeySet.FromDirectory(p).Keys) trusted.Add(k); }
                else trusted.Add(BundlePublicKey.FromFile(Paths.ExistingFile(p, "--pub")));
            }
            if (trusted.Count == 0) throw new UsageException("no public keys found in the --pub arguments");
            ModelBundle b;
            BundlePublicKey signer;
            try
            {
                b = ModelBundle.ReadFile(path);
                signer = b.Verify(trusted);
            }
            catch (BundleException e)
            {
                Console.Error.WriteLine($"exporter verify: {path}: INVALID: {e.Message}");
                return ExitCodes.Failure;
            }
            var m = b.Manifest;
            Console.Out.WriteLine($"{path}: OK");
            Console.Out.WriteLine($"  name        {m.Name}");
            Console.Out.WriteLine($"  version     {m.Version}{(m.ParentVersion is null ? "" : $" (parent {m.ParentVersion})")}");
            Console.Out.WriteLine($"  model       {m.ModelBytes} bytes, sha256 {m.ModelSha256}");
            foreach (var t in m.Inputs) Console.Out.WriteLine($"  input       {t.Name} {t.ElementType} [{string.Join(',', t.Shape.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]");
            foreach (var t in m.Outputs) Console.Out.WriteLine($"  output      {t.Name} {t.ElementType} [{string.Join(',', t.Shape.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]");
            if (m.Labels.Length > 0) Console.Out.WriteLine($"  labels      {string.Join(", ", m.Labels)}");
            if (m.Trainable is { } head) Console.Out.WriteLine($"  trainable   {string.Join(", ", head.Nodes)} ({head.Initializers.Length} tensors)");
            Console.Out.WriteLine($"  signed by   {signer.Source} (key id {signer.KeyIdHex})");
            return ExitCodes.Success;
        }));
        return command;
    }
}
