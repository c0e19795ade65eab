using Microsoft.Extensions.Configuration;

namespace EdgeAgent.Daemon.Configuration;

/// <summary>
/// Assembles the configuration sources in precedence order: the JSON file, then <c>EDGEAGENT__*</c>
/// environment variables (<c>EDGEAGENT__SENSORS__0__RATEHZ=500</c>), then command-line options
/// (<c>--pipeline:hop=32</c>).
/// </summary>
public static class ConfigLoader
{
    public const string DefaultPath = "/etc/edgeagent/edgeagent.json";
    public const string EnvironmentPrefix = "EDGEAGENT__";
    /// <summary>Names another file; for development and tests (systemd uses the default path).</summary>
    public const string PathVariable = "EDGEAGENT_CONFIG";

    /// <param name="path">The file; null = <c>$EDGEAGENT_CONFIG</c> or the default path, which may be absent.</param>
    /// <param name="overrides">Command-line options of the form <c>--section:key=value</c>.</param>
    public static IConfigurationRoot Load(string? path, IReadOnlyList<string> overrides, bool includeEnvironment = true)
    {
        bool explicitPath = path is not null || Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 };
        path ??= Environment.GetEnvironmentVariable(PathVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : DefaultPath;
        path = Path.GetFullPath(path);
        if (explicitPath && !File.Exists(path))
            throw new ConfigException([new ConfigError("(file)", $"configuration file '{path}' does not exist")]);
        var builder = new ConfigurationBuilder();
        if (File.Exists(path))
        {
            var json = new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
            {
                Path = Path.GetFileName(path),
                Optional = false,
                ReloadOnChange = false,
                FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(Path.GetDirectoryName(path)!),
            };
            builder.Add(json);
        }
        if (includeEnvironment) builder.AddEnvironmentVariables(EnvironmentPrefix);
        builder.AddCommandLine(overrides.ToArray());
        try
        {
            return builder.Build();
        }
        catch (Exception e) when (e is FormatException or InvalidDataException or System.Text.Json.JsonException)
        {
            throw new ConfigException([new ConfigError("(file)", $"'{path}' is not valid JSON: {e.InnerException?.Message ?? e.Message}")]);
        }
    }
}
