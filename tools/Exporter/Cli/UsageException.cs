namespace EdgeAgent.Exporter.Cli;

/// <summary>An argument value that is wrong in itself (exit code 2), found after parsing succeeded.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>The operation failed for a reason already explained in the message (exit code 1).</summary>
internal sealed class CommandFailedException(string message, Exception? inner = null) : Exception(message, inner);
