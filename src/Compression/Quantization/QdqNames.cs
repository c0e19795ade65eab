using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Compression.Quantization;

/// <summary>
/// The short, deterministic names the quantizer gives what it adds. Every name appears several times in
/// the file (initializer, node inputs, node outputs), and in a small model the names of a QDQ graph
/// outweigh its biases, so they are kept to a suffix on the name of what they belong to:
/// <list type="bullet">
/// <item>layer <c>N</c>'s weight: <c>N.wq</c> (int8 values), <c>N.ws</c> (scales), <c>N.w</c> (dequantized, node <c>DQ:N.w</c>);</item>
/// <item>its bias: <c>N.bq</c> (int32), <c>N.bs</c>, <c>N.b</c> (node <c>DQ:N.b</c>);</item>
/// <item>activation <c>T</c>: <c>T.s</c> (scale), <c>T.q</c> (node <c>Q:T</c>), <c>T.dq</c> (node <c>DQ:T</c>);
/// a graph output keeps its name and its producer writes <c>T.f</c> (the float value before quantization);</item>
/// <item>activation zero points are shared by value: <c>zp.u8.0</c>, <c>zp.s8.-3</c>.</item>
/// </list>
/// A name already in the graph gets a numeric suffix (<c>_1</c>, <c>_2</c>, ...), so the result is still unique.
/// </summary>
internal sealed class QdqNames
{
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public QdqNames(Graph graph)
    {
        _used.UnionWith(graph.Initializers.Keys);
        foreach (var i in graph.Inputs) _used.Add(i.Name);
        foreach (var o in graph.Outputs) _used.Add(o.Name);
        foreach (var n in graph.Nodes)
        {
            _used.UnionWith(n.Inputs);
            _used.UnionWith(n.Outputs);
            _used.Add(n.Name);
        }
    }

    /// <summary><paramref name="stem"/> if nothing in the graph has that name yet, else the first free <c>stem_k</c>; reserved either way.</summary>
    public string Take(string stem)
    {
        if (_used.Add(stem)) return stem;
        for (int k = 1; ; k++)
        {
            string candidate = $"{stem}_{k}";
            if (_used.Add(candidate)) return candidate;
        }
    }

    /// <summary>What the quantized tensors of a layer are named after: its node's name, else its weight's.</summary>
    public static string LayerStem(Node node, string weight) => node.Name.Length > 0 ? node.Name : weight;

    public static string ZeroPointStem(QuantizedType type, int zeroPoint) =>
        $"zp.{(type == QuantizedType.UInt8 ? "u8" : "s8")}.{zeroPoint.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
}
