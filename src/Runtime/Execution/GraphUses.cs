using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Execution;

/// <summary>Who reads each value of a graph, for rewrites that may only absorb a node whose result nobody else needs.</summary>
internal sealed class GraphUses
{
    private readonly Dictionary<string, int> _readers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Node> _firstReader = new(StringComparer.Ordinal);
    private readonly HashSet<string> _graphOutputs;

    public GraphUses(Graph graph)
    {
        _graphOutputs = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        foreach (var n in graph.Nodes)
            foreach (var i in n.Inputs)
            {
                if (i.Length == 0) continue;
                _readers[i] = _readers.GetValueOrDefault(i) + 1;
                _firstReader.TryAdd(i, n);
            }
        // A value a subgraph reads has readers this walk cannot rewrite: never treat it as solely consumed.
        foreach (var n in graph.Nodes)
            foreach (var a in n.Attributes)
            {
                if (a.Graph is { } g) foreach (var r in g.OuterReferences()) _readers[r] = 2;
                foreach (var sg in a.Graphs) foreach (var r in sg.OuterReferences()) _readers[r] = 2;
            }
    }

    /// <summary>The only node reading <paramref name="value"/> (once), when the value is not also a graph output.</summary>
    public Node? SoleConsumer(string value) =>
        !_graphOutputs.Contains(value) && _readers.GetValueOrDefault(value) == 1 ? _firstReader[value] : null;
}
