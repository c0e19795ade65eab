namespace EdgeAgent.Runtime.Ir;

/// <summary>
/// A computation graph: nodes (kept in topological order by the reader and by <see cref="SortTopologically"/>),
/// named initializers (constant tensors, in insertion order), declared inputs/outputs and optional
/// intermediate value infos. Transformations edit these collections directly and write the model back.
/// </summary>
public sealed class Graph
{
    public string Name { get; set; } = "";
    public string DocString { get; set; } = "";
    public List<Node> Nodes { get; } = [];
    public OrderedDictionary<string, Tensor> Initializers { get; } = new(StringComparer.Ordinal);
    public List<ValueInfo> Inputs { get; } = [];
    public List<ValueInfo> Outputs { get; } = [];
    public List<ValueInfo> ValueInfos { get; } = [];

    /// <summary>Graph inputs that are not initializers: what a caller must feed.</summary>
    public IEnumerable<ValueInfo> RuntimeInputs => Inputs.Where(i => !Initializers.ContainsKey(i.Name));

    /// <summary>The node producing <paramref name="value"/>, or null (graph input, initializer, unknown).</summary>
    public Node? Producer(string value)
    {
        foreach (var n in Nodes) if (n.Outputs.Contains(value)) return n;
        return null;
    }

    /// <summary>Nodes reading <paramref name="value"/>.</summary>
    public IEnumerable<Node> Consumers(string value) => Nodes.Where(n => n.Inputs.Contains(value));

    /// <summary>A value name not yet used in this graph, derived from <paramref name="stem"/>.</summary>
    public string UniqueName(string stem)
    {
        var used = new HashSet<string>(Initializers.Keys, StringComparer.Ordinal);
        foreach (var i in Inputs) used.Add(i.Name);
        foreach (var n in Nodes) { used.UnionWith(n.Outputs); used.Add(n.Name); }
        if (!used.Contains(stem)) return stem;
        for (int k = 1; ; k++) if (!used.Contains($"{stem}_{k}")) return $"{stem}_{k}";
    }

    /// <summary>
    /// Reorders <see cref="Nodes"/> so every node follows its producers (stable for already sorted graphs).
    /// Throws <see cref="ModelLoadException"/> naming a node on a cycle.
    /// </summary>
    public void SortTopologically(IReadOnlySet<string>? outerScope = null)
    {
        var producer = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < Nodes.Count; i++)
            foreach (var o in Nodes[i].Outputs)
                if (o.Length > 0 && !producer.TryAdd(o, i))
                    throw new ModelLoadException($"graph '{Name}': value '{o}' is produced by two nodes ('{Nodes[producer[o]].DisplayName}' and '{Nodes[i].DisplayName}')");
        var state = new byte[Nodes.Count]; // 0 new, 1 on stack, 2 done
        var order = new List<Node>(Nodes.Count);
        var stack = new Stack<(int node, int input)>();
        for (int root = 0; root < Nodes.Count; root++)
        {
            if (state[root] != 0) continue;
            stack.Push((root, 0));
            state[root] = 1;
            while (stack.Count > 0)
            {
                var (n, k) = stack.Pop();
                var inputs = NodeDependencies(Nodes[n]);
                if (k < inputs.Count)
                {
                    stack.Push((n, k + 1));
                    if (producer.TryGetValue(inputs[k], out int p))
                    {
                        if (state[p] == 1)
                            throw new ModelLoadException($"graph '{Name}': node '{Nodes[p].DisplayName}' is on a cycle (through value '{inputs[k]}' of node '{Nodes[n].DisplayName}')");
                        if (state[p] == 0) { state[p] = 1; stack.Push((p, 0)); }
                    }
                }
                else
                {
                    state[n] = 2;
                    order.Add(Nodes[n]);
                }
            }
        }
        Nodes.Clear();
        Nodes.AddRange(order);
    }

    // Inputs plus the outer values that subgraph attributes (If/Loop bodies) read.
    private static List<string> NodeDependencies(Node node)
    {
        var deps = new List<string>(node.Inputs.Count);
        foreach (var i in node.Inputs) if (i.Length > 0) deps.Add(i);
        foreach (var a in node.Attributes)
        {
            if (a.Graph is { } g) deps.AddRange(g.OuterReferences());
            foreach (var sg in a.Graphs) deps.AddRange(sg.OuterReferences());
        }
        return deps;
    }

    /// <summary>Values a (sub)graph reads that it neither defines nor receives as input.</summary>
    public IEnumerable<string> OuterReferences()
    {
        var defined = new HashSet<string>(Initializers.Keys, StringComparer.Ordinal);
        foreach (var i in Inputs) defined.Add(i.Name);
        foreach (var n in Nodes) defined.UnionWith(n.Outputs);
        var refs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in Nodes)
            foreach (var d in NodeDependencies(n))
                if (!defined.Contains(d)) refs.Add(d);
        return refs;
    }
}
