namespace EdgeAgent.Runtime.Ir;

/// <summary>An operator set a model uses: domain ("" = default ONNX) and version.</summary>
public readonly record struct OpsetImport(string Domain, long Version);

/// <summary>A whole model file: metadata, operator set versions and the main graph.</summary>
public sealed class OnnxModel
{
    public long IrVersion { get; set; } = 8;
    public List<OpsetImport> Opsets { get; } = [];
    public string ProducerName { get; set; } = "";
    public string ProducerVersion { get; set; } = "";
    public string Domain { get; set; } = "";
    public long ModelVersion { get; set; }
    public string DocString { get; set; } = "";
    public Graph Graph { get; set; } = new();
    public OrderedDictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    /// <summary>The default-domain opset version (what operator semantics follow).</summary>
    public long OnnxOpset
    {
        get
        {
            foreach (var o in Opsets) if (o.Domain is "" or "ai.onnx") return o.Version;
            return 0;
        }
    }

    public static OnnxModel Create(Graph graph, long opset = 17)
    {
        var m = new OnnxModel { Graph = graph, ProducerName = "EdgeAgent" };
        m.Opsets.Add(new OpsetImport("", opset));
        return m;
    }
}
