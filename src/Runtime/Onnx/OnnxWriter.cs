using System.Text;
using EdgeAgent.Runtime.Ir;
using Google.Protobuf;
using F = EdgeAgent.Runtime.Onnx.OnnxFields;

namespace EdgeAgent.Runtime.Onnx;

/// <summary>How <see cref="OnnxWriter"/> stores initializers.</summary>
public sealed record OnnxWriteOptions
{
    /// <summary>
    /// When set, initializers of at least <see cref="ExternalThresholdBytes"/> go to this file (relative
    /// to the model's directory) instead of inline raw_data.
    /// </summary>
    public string? ExternalDataFile { get; init; }

    public int ExternalThresholdBytes { get; init; } = 1024;
}

/// <summary>Writes the IR back to ONNX files (models and TensorProto .pb files).</summary>
public static class OnnxWriter
{
    public static byte[] ToBytes(OnnxModel model) => Encode(w => WriteModel(w, model, null));

    public static void Save(OnnxModel model, string path, OnnxWriteOptions? options = null)
    {
        options ??= new OnnxWriteOptions();
        ExternalSink? sink = null;
        if (options.ExternalDataFile is { } ext)
        {
            if (Path.IsPathRooted(ext) || ext.Split('/', '\\').Contains(".."))
                throw new ArgumentException($"external data file '{ext}' must be relative to the model's directory");
            string dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
            sink = new ExternalSink(File.Create(Path.Combine(dir, ext)), ext, options.ExternalThresholdBytes);
        }
        try
        {
            var bytes = Encode(w => WriteModel(w, model, sink));
            File.WriteAllBytes(path, bytes);
        }
        finally
        {
            sink?.Stream.Dispose();
        }
    }

    /// <summary>A serialized TensorProto, as ONNX's test data stores inputs and outputs.</summary>
    public static byte[] TensorToBytes(Tensor tensor, string name = "") => Encode(w => WriteTensor(w, tensor, name, null));

    public static void SaveTensor(Tensor tensor, string path, string name = "") => File.WriteAllBytes(path, TensorToBytes(tensor, name));

    private sealed class ExternalSink(Stream stream, string location, int threshold)
    {
        public Stream Stream => stream;
        public string Location => location;
        public int Threshold => threshold;
    }

    private static byte[] Encode(Action<CodedOutputStream> write)
    {
        using var ms = new MemoryStream();
        using (var w = new CodedOutputStream(ms, leaveOpen: true))
        {
            write(w);
            w.Flush();
        }
        return ms.ToArray();
    }

    private static void Message(CodedOutputStream w, int field, Action<CodedOutputStream> body)
    {
        var bytes = Encode(body);
        w.WriteTag(field, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(UnsafeByteOperations.UnsafeWrap(bytes));
    }

    private static void String(CodedOutputStream w, int field, string value)
    {
        if (value.Length == 0) return;
        w.WriteTag(field, WireFormat.WireType.LengthDelimited);
        w.WriteString(value);
    }

    private static void Int64(CodedOutputStream w, int field, long value)
    {
        w.WriteTag(field, WireFormat.WireType.Varint);
        w.WriteInt64(value);
    }

    private static void WriteModel(CodedOutputStream w, OnnxModel m, ExternalSink? sink)
    {
        Int64(w, F.Model.IrVersion, m.IrVersion);
        String(w, F.Model.ProducerName, m.ProducerName);
        String(w, F.Model.ProducerVersion, m.ProducerVersion);
        String(w, F.Model.Domain, m.Domain);
        if (m.ModelVersion != 0) Int64(w, F.Model.ModelVersion, m.ModelVersion);
        String(w, F.Model.DocString, m.DocString);
        Message(w, F.Model.Graph, g => WriteGraph(g, m.Graph, sink));
        foreach (var o in m.Opsets)
        {
            Message(w, F.Model.OpsetImport, x =>
            {
                String(x, F.OpsetId.Domain, o.Domain);
                Int64(x, F.OpsetId.Version, o.Version);
            });
        }
        foreach (var (k, v) in m.Metadata) Message(w, F.Model.MetadataProps, x => StringEntry(x, k, v));
    }

    private static void StringEntry(CodedOutputStream w, string key, string value)
    {
        String(w, F.StringEntry.Key, key);
        String(w, F.StringEntry.Value, value);
    }

    private static void WriteGraph(CodedOutputStream w, Graph g, ExternalSink? sink)
    {
        foreach (var n in g.Nodes) Message(w, F.Graph.Node, x => WriteNode(x, n, sink));
        String(w, F.Graph.Name, g.Name);
        foreach (var (name, t) in g.Initializers) Message(w, F.Graph.Initializer, x => WriteTensor(x, t, name, sink));
        String(w, F.Graph.DocString, g.DocString);
        foreach (var i in g.Inputs) Message(w, F.Graph.Input, x => WriteValueInfo(x, i));
        foreach (var o in g.Outputs) Message(w, F.Graph.Output, x => WriteValueInfo(x, o));
        foreach (var v in g.ValueInfos) Message(w, F.Graph.ValueInfo, x => WriteValueInfo(x, v));
    }

    private static void WriteNode(CodedOutputStream w, Node n, ExternalSink? sink)
    {
        // Inputs keep empty names: they mark omitted optional inputs by position.
        foreach (var i in n.Inputs) { w.WriteTag(F.Node.Input, WireFormat.WireType.LengthDelimited); w.WriteString(i); }
        foreach (var o in n.Outputs) { w.WriteTag(F.Node.Output, WireFormat.WireType.LengthDelimited); w.WriteString(o); }
        String(w, F.Node.Name, n.Name);
        String(w, F.Node.OpType, n.OpType);
        foreach (var a in n.Attributes) Message(w, F.Node.Attribute, x => WriteAttribute(x, a, sink));
        String(w, F.Node.DocString, n.DocString);
        String(w, F.Node.Domain, n.Domain);
    }

    private static void WriteAttribute(CodedOutputStream w, NodeAttribute a, ExternalSink? sink)
    {
        String(w, F.Attribute.Name, a.Name);
        switch (a.Kind)
        {
            case AttributeKind.Float: w.WriteTag(F.Attribute.F, WireFormat.WireType.Fixed32); w.WriteFloat(a.Float); break;
            case AttributeKind.Int: Int64(w, F.Attribute.I, a.Int); break;
            case AttributeKind.String:
                w.WriteTag(F.Attribute.S, WireFormat.WireType.LengthDelimited);
                w.WriteBytes(ByteString.CopyFrom(Encoding.UTF8.GetBytes(a.String)));
                break;
            case AttributeKind.Tensor: Message(w, F.Attribute.T, x => WriteTensor(x, a.Tensor!, "", sink)); break;
            case AttributeKind.Graph: Message(w, F.Attribute.G, x => WriteGraph(x, a.Graph!, sink)); break;
            case AttributeKind.Floats:
                Message(w, F.Attribute.Floats, x => { foreach (var f in a.Floats) x.WriteFloat(f); });
                break;
            case AttributeKind.Ints:
                Message(w, F.Attribute.Ints, x => { foreach (var i in a.Ints) x.WriteInt64(i); });
                break;
            case AttributeKind.Strings:
                foreach (var s in a.Strings)
                {
                    w.WriteTag(F.Attribute.Strings, WireFormat.WireType.LengthDelimited);
                    w.WriteBytes(ByteString.CopyFrom(Encoding.UTF8.GetBytes(s)));
                }
                break;
            case AttributeKind.Tensors:
                foreach (var t in a.Tensors) Message(w, F.Attribute.Tensors, x => WriteTensor(x, t, "", sink));
                break;
            case AttributeKind.Graphs:
                foreach (var g in a.Graphs) Message(w, F.Attribute.Graphs, x => WriteGraph(x, g, sink));
                break;
            default: throw new NotSupportedException($"attribute '{a.Name}' of kind {a.Kind} cannot be written");
        }
        if (a.RefAttributeName.Length > 0) String(w, F.Attribute.RefAttrName, a.RefAttributeName);
        Int64(w, F.Attribute.Type, (long)a.Kind);
    }

    private static void WriteTensor(CodedOutputStream w, Tensor t, string name, ExternalSink? sink)
    {
        if (t.Rank > 0) Message(w, F.Tensor.Dims, x => { foreach (int d in t.Shape) x.WriteInt64(d); });
        Int64(w, F.Tensor.DataType, (long)t.DataType);
        String(w, F.Tensor.Name, name);
        if (sink is not null && name.Length > 0 && t.ByteLength >= sink.Threshold)
        {
            long offset = sink.Stream.Position;
            sink.Stream.Write(t.Bytes);
            Message(w, F.Tensor.ExternalData, x => StringEntry(x, "location", sink.Location));
            Message(w, F.Tensor.ExternalData, x => StringEntry(x, "offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Message(w, F.Tensor.ExternalData, x => StringEntry(x, "length", t.ByteLength.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            Int64(w, F.Tensor.DataLocation, F.Tensor.LocationExternal);
            return;
        }
        w.WriteTag(F.Tensor.RawData, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(ByteString.CopyFrom(t.Bytes));
    }

    private static void WriteValueInfo(CodedOutputStream w, ValueInfo v)
    {
        String(w, F.ValueInfo.Name, v.Name);
        Message(w, F.ValueInfo.Type, type => Message(type, F.Type.TensorType, tt =>
        {
            if (v.ElementType != DataType.Undefined) Int64(tt, F.TensorType.ElemType, (long)v.ElementType);
            if (v.Shape is { } shape)
            {
                Message(tt, F.TensorType.Shape, s =>
                {
                    foreach (var d in shape)
                    {
                        Message(s, F.Shape.Dim, dim =>
                        {
                            if (d.Value is { } value) Int64(dim, F.Dimension.Value, value);
                            else if (d.Symbol is { } sym) String(dim, F.Dimension.Param, sym);
                        });
                    }
                });
            }
        }));
        String(w, F.ValueInfo.DocString, v.DocString);
    }
}
