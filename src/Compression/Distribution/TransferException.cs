namespace EdgeAgent.Compression.Distribution;

/// <summary>A transfer that cannot go on: a malformed manifest, a file that does not match it, a bad address.</summary>
public sealed class TransferException(string message, Exception? inner = null) : Exception(message, inner);
