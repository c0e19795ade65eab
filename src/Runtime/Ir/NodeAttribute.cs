namespace EdgeAgent.Runtime.Ir;

/// <summary>Attribute kinds, numbered as ONNX numbers them in files.</summary>
public enum AttributeKind
{
    Undefined = 0,
    Float = 1,
    Int = 2,
    String = 3,
    Tensor = 4,
    Graph = 5,
    Floats = 6,
    Ints = 7,
    Strings = 8,
    Tensors = 9,
    Graphs = 10,
    SparseTensor = 11,
    SparseTensors = 12,
    TypeProto = 13,
    TypeProtos = 14,
}

/// <summary>A node attribute: exactly one of the value fields is meaningful, chosen by <see cref="Kind"/>.</summary>
public sealed class NodeAttribute
{
    public string Name { get; }
    public AttributeKind Kind { get; }
    public float Float { get; init; }
    public long Int { get; init; }
    /// <summary>Strings are bytes in ONNX; we hold them as UTF-8 text.</summary>
    public string String { get; init; } = "";
    public Tensor? Tensor { get; init; }
    public Graph? Graph { get; init; }
    public float[] Floats { get; init; } = [];
    public long[] Ints { get; init; } = [];
    public string[] Strings { get; init; } = [];
    public Tensor[] Tensors { get; init; } = [];
    public Graph[] Graphs { get; init; } = [];
    /// <summary>Set when the attribute refers to an attribute of an enclosing function.</summary>
    public string RefAttributeName { get; init; } = "";

    public NodeAttribute(string name, AttributeKind kind) { Name = name; Kind = kind; }

    public static NodeAttribute Of(string name, long value) => new(name, AttributeKind.Int) { Int = value };
    public static NodeAttribute Of(string name, float value) => new(name, AttributeKind.Float) { Float = value };
    public static NodeAttribute Of(string name, string value) => new(name, AttributeKind.String) { String = value };
    public static NodeAttribute Of(string name, long[] values) => new(name, AttributeKind.Ints) { Ints = values };
    public static NodeAttribute Of(string name, float[] values) => new(name, AttributeKind.Floats) { Floats = values };
    public static NodeAttribute Of(string name, Tensor value) => new(name, AttributeKind.Tensor) { Tensor = value };
    public static NodeAttribute Of(string name, Graph value) => new(name, AttributeKind.Graph) { Graph = value };

    public override string ToString() => Kind switch
    {
        AttributeKind.Float => $"{Name}={Float}",
        AttributeKind.Int => $"{Name}={Int}",
        AttributeKind.String => $"{Name}=\"{String}\"",
        AttributeKind.Ints => $"{Name}=[{string.Join(",", Ints)}]",
        AttributeKind.Floats => $"{Name}=[{string.Join(",", Floats)}]",
        AttributeKind.Tensor => $"{Name}={Tensor}",
        _ => $"{Name}:{Kind}",
    };
}
