namespace EdgeAgent.Runtime.Training;

/// <summary>Collects nodes and initializers while layers export themselves in order.</summary>
internal sealed class OnnxGraphBuilder
{
    private readonly List<OnnxNodeSpec> _nodes = [];
    private readonly List<OnnxInitializerSpec> _initializers = [];
    private readonly HashSet<string> _names = [];

    public IReadOnlyList<OnnxNodeSpec> Nodes => _nodes;
    public IReadOnlyList<OnnxInitializerSpec> Initializers => _initializers;

    /// <summary>Adds a copy of <paramref name="data"/> as a constant and returns its name.</summary>
    public string Constant(string name, int[] shape, ReadOnlySpan<float> data)
    {
        Reserve(name);
        _initializers.Add(new OnnxInitializerSpec(name, (int[])shape.Clone(), data.ToArray()));
        return name;
    }

    public string Node(string opType, string name, IReadOnlyList<string> inputs, params OnnxAttributeSpec[] attributes)
    {
        Reserve(name);
        string output = name + "_out";
        Reserve(output);
        _nodes.Add(new OnnxNodeSpec(opType, name, inputs.ToArray(), [output], attributes));
        return output;
    }

    private void Reserve(string name)
    {
        if (!_names.Add(name)) throw new InvalidOperationException($"ONNX export: the name '{name}' is used twice; layer names must be unique");
    }
}
