namespace EdgeAgent.Runtime.Training;

/// <summary>
/// A trained network as an ONNX graph, independent of any protobuf writer: what the runtime's ONNX
/// writer serialises. Float32 only; the batch dimension of input and output is symbolic ("N").
/// </summary>
public sealed record OnnxGraphSpec(
    string Name,
    long Opset,
    string InputName,
    int[] InputShape,
    string OutputName,
    int[] OutputShape,
    IReadOnlyList<OnnxNodeSpec> Nodes,
    IReadOnlyList<OnnxInitializerSpec> Initializers);

/// <summary>One ONNX node; attributes keep ONNX's names and types.</summary>
public sealed record OnnxNodeSpec(
    string OpType,
    string Name,
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Outputs,
    IReadOnlyList<OnnxAttributeSpec> Attributes);

/// <summary>An ONNX attribute: exactly one of the value fields is set.</summary>
public sealed record OnnxAttributeSpec(string Name, long? Int = null, float? Float = null, long[]? Ints = null, string? String = null)
{
    public static OnnxAttributeSpec Of(string name, long value) => new(name, Int: value);
    public static OnnxAttributeSpec Of(string name, float value) => new(name, Float: value);
    public static OnnxAttributeSpec Of(string name, params long[] values) => new(name, Ints: values);
}

/// <summary>A float32 constant tensor of the graph (weights, biases, statistics, Clip bounds).</summary>
public sealed record OnnxInitializerSpec(string Name, int[] Shape, float[] Data);
