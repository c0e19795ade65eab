namespace EdgeAgent.Runtime.Ir;

/// <summary>
/// One operator application. Inputs and outputs are value names; an empty input name marks an omitted
/// optional input (as in ONNX). Attributes keep file order.
/// </summary>
public sealed class Node
{
    public string Name { get; set; }
    public string OpType { get; set; }
    /// <summary>"" is the default ONNX domain (same as "ai.onnx").</summary>
    public string Domain { get; set; }
    public List<string> Inputs { get; }
    public List<string> Outputs { get; }
    public List<NodeAttribute> Attributes { get; } = [];
    public string DocString { get; set; } = "";

    public Node(string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, string name = "", string domain = "")
    {
        OpType = opType;
        Inputs = [.. inputs];
        Outputs = [.. outputs];
        Name = name;
        Domain = domain;
    }

    /// <summary>The node's name, or a description of it when the file left it unnamed.</summary>
    public string DisplayName => Name.Length > 0 ? Name : $"{OpType}(-> {string.Join(",", Outputs)})";

    public NodeAttribute? GetAttribute(string name)
    {
        foreach (var a in Attributes) if (a.Name == name) return a;
        return null;
    }

    public Node With(NodeAttribute attribute)
    {
        Attributes.RemoveAll(a => a.Name == attribute.Name);
        Attributes.Add(attribute);
        return this;
    }

    public long GetInt(string name, long fallback) => GetAttribute(name) is { Kind: AttributeKind.Int } a ? a.Int : fallback;
    public float GetFloat(string name, float fallback) => GetAttribute(name) is { Kind: AttributeKind.Float } a ? a.Float : fallback;
    public string GetString(string name, string fallback) => GetAttribute(name) is { Kind: AttributeKind.String } a ? a.String : fallback;
    public long[]? GetInts(string name) => GetAttribute(name) is { Kind: AttributeKind.Ints } a ? a.Ints : null;
    public float[]? GetFloats(string name) => GetAttribute(name) is { Kind: AttributeKind.Floats } a ? a.Floats : null;

    /// <summary>Input <paramref name="index"/> if present and not omitted, else null.</summary>
    public string? InputOrNull(int index) => index < Inputs.Count && Inputs[index].Length > 0 ? Inputs[index] : null;

    public override string ToString() =>
        $"{DisplayName}: {OpType}({string.Join(", ", Inputs)}) -> ({string.Join(", ", Outputs)})";
}
