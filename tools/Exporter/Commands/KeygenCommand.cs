using System.CommandLine;
using EdgeAgent.Compression.IO;
using EdgeAgent.Compression.Signing;
using EdgeAgent.Exporter.Cli;

namespace EdgeAgent.Exporter.Commands;

/// <summary>exporter keygen -o PREFIX: a new ECDSA P-256 signing key pair.</summary>
internal static class KeygenCommand
{
    public static Command Create()
    {
        var output = new Option<string>("--output", "-o")
        {
            Description = "Path prefix: writes PREFIX (private key, PKCS#8 PEM, mode 0600) and PREFIX.pub (public key).",
            Required = true,
            HelpName = "PREFIX",
        };
        var force = new Option<bool>("--force") { Description = "Overwrite existing key files." };
        var command = new Command("keygen", "Generate an ECDSA P-256 key pair for signing bundles and deltas.") { output, force };
        command.SetAction(parse => ExporterCli.Guard("keygen", () =>
        {
            var prefix = Paths.OutputFile(parse.GetValue(output), "--output");
            var publicPath = prefix + ".pub";
            if (!parse.GetValue(force))
            {
                foreach (var p in new[] { prefix, publicPath })
                    if (File.Exists(p)) throw new UsageException($"'{p}' already exists; pass --force to replace it");
            }
            using var key = BundleSigningKey.Generate();
            AtomicFile.WriteAllText(prefix, key.ExportPrivatePem(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
            AtomicFile.WriteAllText(publicPath, key.PublicKey.ExportPem(),
                UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            Console.Out.WriteLine($"private key  {prefix}  (keep it secret)");
            Console.Out.WriteLine($"public key   {publicPath}");
            Console.Out.WriteLine($"key id       {key.PublicKey.KeyIdHex}");
            return ExitCodes.Success;
        }));
        return command;
    }
}
