namespace EdgeAgent.Compression.Signing;

/// <summary>A key file or key text that is not a usable ECDSA P-256 key; the message names the source.</summary>
public sealed class KeyFormatException(string message, Exception? inner = null) : Exception(message, inner);
