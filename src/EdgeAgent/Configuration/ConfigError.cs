namespace EdgeAgent.Daemon.Configuration;

/// <summary>One configuration problem: the full key (<c>sensors:0:rateHz</c>), where it came from, and why it is wrong.</summary>
public sealed record ConfigError(string Key, string Reason, string? Source = null)
{
    public override string ToString() => Source is null ? $"{Key}: {Reason}" : $"{Key} ({Source}): {Reason}";
}

/// <summary>Thrown at start-up when the configuration is invalid; carries every problem found, not only the first.</summary>
public sealed class ConfigException(IReadOnlyList<ConfigError> errors)
    : Exception("invalid configuration:\n  " + string.Join("\n  ", errors))
{
    public IReadOnlyList<ConfigError> Errors { get; } = errors;
}
