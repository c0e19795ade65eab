using EdgeAgent.Compression.Signing;

namespace EdgeAgent.Daemon.Learning;

/// <summary>
/// The device's own ECDSA P-256 key, which signs the versions it learns. Generated on first start as
/// <c>&lt;stateDirectory&gt;/learning/device-key.pem</c> (mode 0600) with its public half beside it
/// (<c>device-key.pub</c>, for an operator or the fleet to collect); reused on every later start.
/// </summary>
public static class DeviceSigningKey
{
    public const string PrivateKeyFile = "device-key.pem";
    public const string PublicKeyFile = "device-key.pub";

    public static BundleSigningKey LoadOrCreate(string directory)
    {
        Directory.CreateDirectory(directory);
        string privatePath = Path.Combine(directory, PrivateKeyFile);
        string publicPath = Path.Combine(directory, PublicKeyFile);
        if (File.Exists(privatePath))
        {
            var existing = BundleSigningKey.FromFile(privatePath);
            if (!File.Exists(publicPath)) WriteAtomically(publicPath, existing.PublicKey.ExportPem(), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            return existing;
        }
        var key = BundleSigningKey.Generate();
        // The public half first: a crash between the two leaves no private key without its public file.
        WriteAtomically(publicPath, key.PublicKey.ExportPem(), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        WriteAtomically(privatePath, key.ExportPrivatePem(), UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return key;
    }

    private static void WriteAtomically(string path, string text, UnixFileMode mode)
    {
        string temp = path + ".tmp";
        var streamOptions = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) streamOptions.UnixCreateMode = mode;
        using (var stream = new FileStream(temp, streamOptions))
        {
            using var writer = new StreamWriter(stream);
            writer.Write(text);
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }
}
