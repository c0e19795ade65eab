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

    /// <summary>
    /// An independent deep copy (through the writer and reader, so it is exactly what a saved file would load as).
    /// Needed before handing a model to an <see cref="InferenceSession"/> that optimises it while the caller keeps
    /// using the original, since the session rewrites the graph it is given.
    /// </summary>
    public OnnxModel Copy(bool validate = true) =>
        Onnx.OnnxReader.Load(Onnx.OnnxWriter.ToBytes(this), validate: validate);

    public static OnnxModel Create(Graph graph, long opset = 17)
    {
        var m = new OnnxModel { Graph = graph, ProducerName = "EdgeAgent" };
        m.Opsets.Add(new OpsetImport("", opset));
        return m;
    }
}
