namespace EdgeAgent.Runtime;

/// <summary>
/// A model (or tensor file) that cannot be loaded: malformed protobuf, an unsupported or inconsistent
/// construct, a limit exceeded. The message names where the problem is (node, field, file).
/// </summary>
public sealed class ModelLoadException : Exception
{
    /// <summary>
    /// True when the file is valid ONNX but uses a feature this runtime does not implement (string
    /// tensors, sparse tensors, an operator we lack) rather than being malformed.
    /// </summary>
    public bool IsUnsupportedFeature { get; init; }

    public ModelLoadException(string message) : base(message) { }

    public ModelLoadException(string message, Exception inner) : base(message, inner) { }
}
