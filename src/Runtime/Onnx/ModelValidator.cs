using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Onnx;

/// <summary>
/// Structural checks of a decoded model: known domains, every input defined (no missing initializer),
/// single producers, no cycles, declared outputs produced. Also sorts nodes topologically.
/// </summary>
public static class ModelValidator
{
    public static void Validate(OnnxModel model)
    {
        var domains = new HashSet<string>(StringComparer.Ordinal);
        foreach (var o in model.Opsets)
        {
            string d = o.Domain == "ai.onnx" ? "" : o.Domain;
            if (!domains.Add(d)) throw new ModelLoadException($"model: field 'opset_import': domain '{o.Domain}' is imported twice");
        }
        ValidateGraph(model.Graph, domains, new HashSet<string>(StringComparer.Ordinal), "graph");
    }

    private static void ValidateGraph(Graph g, HashSet<string> domains, HashSet<string> outer, string where)
    {
        where = g.Name.Length > 0 ? $"{where} '{g.Name}'" : where;
        var defined = new HashSet<string>(outer, StringComparer.Ordinal);
        foreach (var i in g.Inputs)
        {
            if (i.Name.Length == 0) throw new ModelLoadException($"{where}: an input has an empty name");
            defined.Add(i.Name);
        }
        foreach (var k in g.Initializers.Keys) defined.Add(k);
        foreach (var n in g.Nodes)
        {
            string d = n.Domain == "ai.onnx" ? "" : n.Domain;
            if (!domains.Contains(d))
                throw new ModelLoadException($"{where}: node '{n.DisplayName}': field 'domain': domain '{n.Domain}' is not imported by the model (opset_import)");
        }
        g.SortTopologically();
        foreach (var n in g.Nodes)
        {
            for (int k = 0; k < n.Inputs.Count; k++)
            {
                string input = n.Inputs[k];
                if (input.Length > 0 && !defined.Contains(input))
                    throw new ModelLoadException($"{where}: node '{n.DisplayName}': field 'input' #{k}: value '{input}' is not produced by any node, graph input or initializer");
            }
            foreach (var a in n.Attributes)
            {
                if (a.Graph is { } sub) ValidateGraph(sub, domains, defined, $"{where} / node '{n.DisplayName}' / attribute '{a.Name}'");
                foreach (var sg in a.Graphs) ValidateGraph(sg, domains, defined, $"{where} / node '{n.DisplayName}' / attribute '{a.Name}'");
            }
            foreach (var o in n.Outputs)
            {
                if (o.Length == 0) continue;
                if (g.Initializers.ContainsKey(o) || g.Inputs.Any(i => i.Name == o))
                    throw new ModelLoadException($"{where}: node '{n.DisplayName}': field 'output': value '{o}' is also a graph input or initializer");
                defined.Add(o);
            }
        }
        foreach (var o in g.Outputs)
        {
            if (!defined.Contains(o.Name))
                throw new ModelLoadException($"{where}: field 'output': graph output '{o.Name}' is never produced");
        }
    }
}
