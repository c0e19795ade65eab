namespace EdgeAgent.Exporter.Cli;

/// <summary>Checks on file arguments that give a usage error naming the option before any work starts.</summary>
internal static class Paths
{
    public static string ExistingFile(string? path, string what)
    {
        if (string.IsNullOrEmpty(path)) throw new UsageException($"{what} is required");
        if (Directory.Exists(path)) throw new UsageException($"{what} '{path}' is a directory, expected a file");
        if (!File.Exists(path)) throw new UsageException($"{what} '{path}' does not exist");
        return path;
    }

    public static string OutputFile(string? path, string what)
    {
        if (string.IsNullOrEmpty(path)) throw new UsageException($"{what} is required");
        if (Directory.Exists(path)) throw new UsageException($"{what} '{path}' is a directory, expected a file name");
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null && !Directory.Exists(directory))
            throw new UsageException($"{what} '{path}': directory '{directory}' does not exist");
        return path;
    }
}
