namespace EdgeAgent.Runtime;

/// <summary>A node failed while running (e.g. a Gather index out of range); names the node.</summary>
public sealed class InferenceException(string message, Exception inner) : Exception(message, inner);
