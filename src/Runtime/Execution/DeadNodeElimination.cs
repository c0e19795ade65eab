using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Execution;

/// <summary>Removes nodes none of whose outputs reach a graph output, and initializers no node reads.</summary>
public static class DeadNodeElimination
{
    public static int Run(Graph graph)
    {
        var live = new HashSet<string>(graph.Outputs.Select(o => o.Name), StringComparer.Ordinal);
        var keep = new bool[graph.Nodes.Count];
        for (int i = graph.Nodes.Count - 1; i >= 0; i--)
        {
            var n = graph.Nodes[i];
            if (!n.Outputs.Any(live.Contains)) continue;
            keep[i] = true;
            foreach (var input in n.Inputs) if (input.Length > 0) live.Add(input);
            foreach (var a in n.Attributes)
            {
                if (a.Graph is { } g) live.UnionWith(g.OuterReferences());
                foreach (var sg in a.Graphs) live.UnionWith(sg.OuterReferences());
            }
        }
        int removed = 0;
        for (int i = graph.Nodes.Count - 1; i >= 0; i--)
            if (!keep[i]) { graph.Nodes.RemoveAt(i); removed++; }
        foreach (var name in graph.Initializers.Keys.ToList())
            if (!live.Contains(name) && !graph.Inputs.Any(i => i.Name == name)) graph.Initializers.Remove(name);
        return removed;
    }
}
