namespace EdgeAgent.Daemon.Mqtt;

/// <summary>A request that cannot be carried out; the message goes back to the caller verbatim as the reply's "error".</summary>
public sealed class CommandException(string message) : Exception(message);
