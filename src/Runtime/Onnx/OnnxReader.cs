using System.Runtime.InteropServices;
using EdgeAgent.Runtime.Ir;
using F = EdgeAgent.Runtime.Onnx.OnnxFields;

namespace EdgeAgent.Runtime.Onnx;

/// <summary>
/// Reads ONNX model files and TensorProto (.pb) files into the IR. Everything malformed or beyond
/// <see cref="LoadLimits"/> is a <see cref="ModelLoadException"/> naming the graph, node and field.
/// The model is also checked structurally (<see cref="ModelValidator"/>) unless asked not to.
/// </summary>
public static class OnnxReader
{
    public static OnnxModel Load(string path, LoadLimits? limits = null, bool validate = true)
    {
        limits ??= LoadLimits.Default;
        byte[] bytes = ReadFileBounded(path, limits.MaxModelBytes, "model");
        return Load(bytes, Path.GetDirectoryName(Path.GetFullPath(path)), limits, validate, Path.GetFileName(path));
    }

    /// <summary>
    /// Parses a model held in memory. <paramref name="externalDataDirectory"/> is where external
    /// initializer files are looked up; without it a model that references external data is refused.
    /// </summary>
    public static OnnxModel Load(byte[] bytes, string? externalDataDirectory = null, LoadLimits? limits = null,
        bool validate = true, string fileName = "model")
    {
        limits ??= LoadLimits.Default;
        var decoder = new Decoder(limits, externalDataDirectory);
        var model = decoder.Model(new ProtoReader(bytes, 0, bytes.Length, fileName));
        if (validate) ModelValidator.Validate(model);
        return model;
    }

    /// <summary>Reads a serialized TensorProto (<c>.pb</c>, as in ONNX's test data).</summary>
    public static Tensor ReadTensorFile(string path, LoadLimits? limits = null)
    {
        limits ??= LoadLimits.Default;
        byte[] bytes = ReadFileBounded(path, limits.MaxTensorBytes * 2, "tensor");
        return ReadTensor(bytes, Path.GetDirectoryName(Path.GetFullPath(path)), limits, Path.GetFileName(path), out _);
    }

    public static Tensor ReadTensor(byte[] bytes, string? externalDataDirectory, LoadLimits? limits, string where, out string name)
    {
        var decoder = new Decoder(limits ?? LoadLimits.Default, externalDataDirectory);
        return decoder.Tensor(new ProtoReader(bytes, 0, bytes.Length, where), out name);
    }

    internal static byte[] ReadFileBounded(string path, long maxBytes, string what)
    {
        try
        {
            using var f = File.OpenRead(path);
            if (f.Length > maxBytes) throw new ModelLoadException($"{path}: {what} file of {f.Length} bytes exceeds the limit of {maxBytes} bytes");
            var bytes = new byte[f.Length];
            f.ReadExactly(bytes);
            return bytes;
        }
        catch (IOException e) { throw new ModelLoadException($"{path}: cannot read {what} file: {e.Message}", e); }
        catch (UnauthorizedAccessException e) { throw new ModelLoadException($"{path}: cannot read {what} file: {e.Message}", e); }
    }

    private static ModelLoadException Unsupported(ModelLoadException e) => new(e.Message) { IsUnsupportedFeature = true };

    private sealed class Decoder(LoadLimits limits, string? externalDir)
    {
        private long _totalTensorBytes;
        private int _nodeCount;

        public OnnxModel Model(ProtoReader r)
        {
            var model = new OnnxModel();
            bool sawGraph = false;
            while (r.Next())
            {
                switch (r.Field)
                {
                    case F.Model.IrVersion: model.IrVersion = r.Int64("ir_version"); break;
                    case F.Model.ProducerName: model.ProducerName = r.String("producer_name"); break;
                    case F.Model.ProducerVersion: model.ProducerVersion = r.String("producer_version"); break;
                    case F.Model.Domain: model.Domain = r.String("domain"); break;
                    case F.Model.ModelVersion: model.ModelVersion = r.Int64("model_version"); break;
                    case F.Model.DocString: model.DocString = r.String("doc_string"); break;
                    case F.Model.Graph:
                        if (sawGraph) throw r.Invalid("graph", "appears twice");
                        model.Graph = Graph(r.Message("graph", $"{r.Where} / graph"), 0);
                        sawGraph = true;
                        break;
                    case F.Model.OpsetImport: model.Opsets.Add(Opset(r.Message("opset_import", $"{r.Where} / opset_import"))); break;
                    case F.Model.MetadataProps:
                        var (k, v) = StringEntry(r.Message("metadata_props", $"{r.Where} / metadata_props"));
                        model.Metadata[k] = v;
                        break;
                    default: r.Skip(); break;
                }
            }
            if (!sawGraph) throw new ModelLoadException($"{r.Where}: field 'graph' is missing (not an ONNX model?)");
            return model;
        }

        private static OpsetImport Opset(ProtoReader r)
        {
            string domain = "";
            long version = 0;
            while (r.Next())
            {
                switch (r.Field)
                {
                    case F.OpsetId.Domain: domain = r.String("domain"); break;
                    case F.OpsetId.Version: version = r.Int64("version"); break;
                    default: r.Skip(); break;
                }
            }
            if (version <= 0) throw r.Invalid("version", $"opset version {version} for domain '{domain}' is not positive");
            return new OpsetImport(domain, version);
        }

        private static (string, string) StringEntry(ProtoReader r)
        {
            string k = "", v = "";
            while (r.Next())
            {
                switch (r.Field)
                {
                    case F.StringEntry.Key: k = r.String("key"); break;
                    case F.StringEntry.Value: v = r.String("value"); break;
                    default: r.Skip(); break;
                }
            }
            return (k, v);
        }

        public Graph Graph(ProtoReader r, int depth)
        {
            if (depth > limits.MaxGraphDepth) throw new ModelLoadException($"{r.Where}: subgraphs nested deeper than {limits.MaxGraphDepth}");
            var g = new Graph();
            string where = r.Where;
            while (r.Next())
            {
                switch (r.Field)
                {
                    case F.Graph.Name: g.Name = r.String("name"); break;
                    case F.Graph.DocString: g.DocString = r.String("doc_string"); break;
                    case F.Graph.Node:
                        if (++_nodeCount > limits.MaxNodes) throw r.Invalid("node", $"more than {limits.MaxNodes} nodes");
                        g.Nodes.Add(Node(r.Message("node", $"{where} / node #{g.Nodes.Count}"), depth));
                        break;
                    case F.Graph.Initializer:
                        var t = Tensor(r.Message("initializer", $"{where} / initializer #{g.Initializers.Count}"), out string name);
                        if (name.Length == 0) throw r.Invalid("initializer", $"initializer #{g.Initializers.Count} has no name");
                        if (!g.Initializers.TryAdd(name, t)) throw r.Invalid("initializer", $"initializer '{name}' appears twice");
                        break;
                    case F.Graph.SparseInitializer: throw Unsupported(r.Invalid("sparse_initializer", "sparse initializers are not supported"));
                    case F.Graph.Input: g.Inputs.Add(ValueInfo(r.Message("input", $"{where} / input #{g.Inputs.Count}"))); break;
                    case F.Graph.Output: g.Outputs.Add(ValueInfo(r.Message("output", $"{where} / output #{g.Outputs.Count}"))); break;
                    case F.Graph.ValueInfo: g.ValueInfos.Add(ValueInfo(r.Message("value_info", $"{where} / value_info #{g.ValueInfos.Count}"))); break;
                    default: r.Skip(); break;
                }
            }
            return g;
        }

        private Node Node(ProtoReader r, int depth)
        {
            var node = new Node("", [], []);
            var attributes = new List<ProtoReader>();
            while (r.Next())
            {
                switch (r.Field)
                {
                    case F.Node.Input: node.Inputs.Add(r.String("input")); break;
                    case F.Node.Output: node.Outputs.Add(r.String("output")); break;
                    case F.Node.Name: node.Name = r.String("name"); break;
                    case F.Node.OpType: node.OpType = r.String("op_type"); break;
                    case F.Node.Domain: node.Domain = r.String("domain"); break;
                    case F.Node.DocString: node.DocString = r.String("doc_string"); break;
                    case F.Node.Attribute: attributes.Add(r.Message("attribute", r.Where)); break;
                    default: r.Skip(); break;
                }
            }
            // Attributes are decoded after the name and op type are known, so errors can name the node.
            string where = $"{r.Where} ('{node.DisplayName}')";
            if (node.OpType.Length == 0) throw new ModelLoadException($"{where}: field 'op_type' is missing");
            foreach (var a in attributes)
            {
                var attr = Attribute(new ProtoReader(a, $"{where} / attribute"), depth);
                if (node.GetAttribute(attr.Name) is not null) throw new ModelLoadException($"{where}: attribute '{attr.Name}' appears twice");
                node.Attributes.Add(attr);
            }
            return node;
        }

        private NodeAttribute Attribute(ProtoReader r, int depth)
        {
            var view = r;
            string name = "";
            int type = 0;
            float f = 0; long i = 0; string s = ""; string refName = "";
            Tensor? t = null; Graph? g = null;
            var floats = new List<float>(); var ints = new List<long>(); var strings = new List<string>();
            var tensors = new List<Tensor>(); var graphs = new List<Graph>();
            bool sawF = false, sawI = false, sawS = false, sawT = false, sawG = false;
            var pendingGraphs = new List<ProtoReader>();
            ProtoReader? pendingGraph = null;
            while (r.Next())
            {
                switch (r.Field)
                {
                    case F.Attribute.Name: name = r.String("name"); break;
                    case F.Attribute.Type: type = r.Int32("type"); break;
                    case F.Attribute.F: f = r.Float("f"); sawF = true; break;
                    case F.Attribute.I: i = r.Int64("i"); sawI = true; break;
                    case F.Attribute.S: s = r.String("s"); sawS = true; break;
                    case F.Attribute.T: t = Tensor(r.Message("t", $"{view.Where} / t"), out _); sawT = true; break;
                    case F.Attribute.G: pendingGraph = r.Message("g", $"{view.Where} / g"); sawG = true; break;
                    case F.Attribute.Floats: r.Fixed("floats", floats, limits.MaxTensorBytes / 4); break;
                    case F.Attribute.Ints: r.Int64s("ints", ints, limits.MaxTensorBytes / 8); break;
                    case F.Attribute.Strings: strings.Add(r.String("strings")); break;
                    case F.Attribute.Tensors: tensors.Add(Tensor(r.Message("tensors", $"{view.Where} / tensors"), out _)); break;
                    case F.Attribute.Graphs: pendingGraphs.Add(r.Message("graphs", $"{view.Where} / graphs")); break;
                    case F.Attribute.RefAttrName: refName = r.String("ref_attr_name"); break;
                    case F.Attribute.SparseTensor or F.Attribute.SparseTensors:
                        throw Unsupported(r.Invalid("sparse_tensor", "sparse tensor attributes are not supported"));
                    default: r.Skip(); break;
                }
            }
            string where = $"{view.Where} '{name}'";
            if (name.Length == 0) throw new ModelLoadException($"{view.Where}: field 'name' is missing");
            if (pendingGraph is not null) g = Graph(new ProtoReader(pendingGraph, $"{where} / g"), depth + 1);
            foreach (var pg in pendingGraphs) graphs.Add(Graph(new ProtoReader(pg, $"{where} / graphs"), depth + 1));

            // Files from old exporters may leave 'type' unset; infer it from the one field present.
            var kind = (AttributeKind)type;
            if (type == 0)
            {
                kind = sawF ? AttributeKind.Float : sawI ? AttributeKind.Int : sawS ? AttributeKind.String
                    : sawT ? AttributeKind.Tensor : sawG ? AttributeKind.Graph : floats.Count > 0 ? AttributeKind.Floats
                    : ints.Count > 0 ? AttributeKind.Ints : strings.Count > 0 ? AttributeKind.Strings
                    : tensors.Count > 0 ? AttributeKind.Tensors : graphs.Count > 0 ? AttributeKind.Graphs : AttributeKind.Undefined;
                if (kind == AttributeKind.Undefined && refName.Length == 0) throw new ModelLoadException($"{where}: field 'type' is missing and no value is set");
            }
            else if (!Enum.IsDefined(kind))
            {
                throw new ModelLoadException($"{where}: field 'type' has unknown value {type}");
            }
            if (kind == AttributeKind.Tensor && t is null) throw new ModelLoadException($"{where}: type TENSOR but field 't' is missing");
            if (kind == AttributeKind.Graph && g is null) throw new ModelLoadException($"{where}: type GRAPH but field 'g' is missing");
            if (kind is AttributeKind.TypeProto or AttributeKind.TypeProtos or AttributeKind.SparseTensor or AttributeKind.SparseTensors)
                throw new ModelLoadException($"{where}: attributes of type {kind} are not supported") { IsUnsupportedFeature = true };
            return new NodeAttribute(name, kind)
            {
                Float = f, Int = i, String = s, Tensor = t, Graph = g,
                Floats = [.. floats], Ints = [.. ints], Strings = [.. strings], Tensors = [.. tensors], Graphs = [.. graphs],
                RefAttributeName = refName,
            };
        }

        private ValueInfo ValueInfo(ProtoReader r)
        {
            string name = "", doc = "";
            DataType elem = DataType.Undefined;
            List<Dim>? shape = null;
            while (r.Next())
            {
                switch (r.Field)
                {
                    case F.ValueInfo.Name: name = r.String("name"); break;
                    case F.ValueInfo.DocString: doc = r.String("doc_string"); break;
                    case F.ValueInfo.Type: (elem, shape) = Type(r.Message("type", $"{r.Where} / type")); break;
                    default: r.Skip(); break;
                }
            }
            if (name.Length == 0) throw new ModelLoadException($"{r.Where}: field 'name' is missing");
            return new ValueInfo(name, elem, shape) { DocString = doc };
        }

        private (DataType, List<Dim>?) Type(ProtoReader r)
        {
            DataType elem = DataType.Undefined;
            List<Dim>? shape = null;
            while (r.Next())
            {
                switch (r.Field)
                {
                    case F.Type.TensorType:
                        var tr = r.Message("tensor_type", $"{r.Where} / tensor_type");
                        while (tr.Next())
                        {
                            switch (tr.Field)
                            {
                                case F.TensorType.ElemType:
                                    int code = tr.Int32("elem_type");
                                    if (!DataTypes.IsDefined(code)) throw tr.Invalid("elem_type", $"unknown element type {code}");
                                    elem = (DataType)code;
                                    break;
                                case F.TensorType.Shape: shape = Shape(tr.Message("shape", $"{tr.Where} / shape")); break;
                                default: tr.Skip(); break;
                            }
                        }
                        break;
                    default: r.Skip(); break; // sequences, maps, optionals: declared but never run by us
                }
            }
            return (elem, shape);
        }

        private List<Dim> Shape(ProtoReader r)
        {
            var dims = new List<Dim>();
            while (r.Next())
            {
                if (r.Field != F.Shape.Dim) { r.Skip(); continue; }
                if (dims.Count >= limits.MaxRank) throw r.Invalid("dim", $"rank above {limits.MaxRank}");
                var dr = r.Message("dim", $"{r.Where} / dim #{dims.Count}");
                var dim = Dim.Unknown;
                while (dr.Next())
                {
                    switch (dr.Field)
                    {
                        case F.Dimension.Value:
                            long v = dr.Int64("dim_value");
                            if (v < 0) throw dr.Invalid("dim_value", $"negative dimension {v}");
                            dim = Dim.Known(v);
                            break;
                        case F.Dimension.Param: dim = Dim.Symbolic(dr.String("dim_param")); break;
                        default: dr.Skip(); break;
                    }
                }
                dims.Add(dim);
            }
            return dims;
        }

        public Tensor Tensor(ProtoReader r, out string name)
        {
            name = "";
            var dims = new List<long>();
            int type = 0;
            ReadOnlySpan<byte> raw = default;
            bool hasRaw = false, external = false;
            var floats = new List<float>(); var doubles = new List<double>();
            var int32s = new List<long>(); var int64s = new List<long>(); var uint64s = new List<ulong>();
            var externalEntries = new Dictionary<string, string>(StringComparer.Ordinal);
            long maxElements = limits.MaxTensorBytes;
            bool strings = false;
            while (r.Next())
            {
                switch (r.Field)
                {
                    case F.Tensor.Dims: r.Int64s("dims", dims, limits.MaxRank); break;
                    case F.Tensor.DataType: type = r.Int32("data_type"); break;
                    case F.Tensor.Name: name = r.String("name"); break;
                    case F.Tensor.RawData: raw = r.Bytes("raw_data"); hasRaw = true; break;
                    case F.Tensor.FloatData: r.Fixed("float_data", floats, maxElements / 4); break;
                    case F.Tensor.DoubleData: r.Fixed("double_data", doubles, maxElements / 8); break;
                    case F.Tensor.Int32Data: r.Int64s("int32_data", int32s, maxElements); break;
                    case F.Tensor.Int64Data: r.Int64s("int64_data", int64s, maxElements / 8); break;
                    case F.Tensor.UInt64Data: r.UInt64s("uint64_data", uint64s, maxElements / 8); break;
                    case F.Tensor.StringData: r.Skip(); strings = true; break;
                    case F.Tensor.Segment: throw Unsupported(r.Invalid("segment", "segmented tensors are not supported"));
                    case F.Tensor.ExternalData:
                        var (k, v) = StringEntry(r.Message("external_data", $"{r.Where} / external_data"));
                        externalEntries[k] = v;
                        break;
                    case F.Tensor.DataLocation: external = r.Int32("data_location") == F.Tensor.LocationExternal; break;
                    default: r.Skip(); break;
                }
            }
            string where = name.Length > 0 ? $"{r.Where} ('{name}')" : r.Where;
            if (!DataTypes.IsDefined(type)) throw new ModelLoadException($"{where}: field 'data_type' has unknown or missing value {type}");
            var dataType = (DataType)type;
            if (strings || dataType == DataType.String) throw new ModelLoadException($"{where}: field 'data_type': string tensors are not supported") { IsUnsupportedFeature = true };
            int size = dataType.SizeOf();
            if (size == 0) throw new ModelLoadException($"{where}: field 'data_type': {dataType.ToName()} tensors are not supported") { IsUnsupportedFeature = true };

            var shape = new int[dims.Count];
            long count = 1;
            for (int d = 0; d < dims.Count; d++)
            {
                if (dims[d] < 0) throw new ModelLoadException($"{where}: field 'dims': negative dimension {dims[d]}");
                if (dims[d] > int.MaxValue) throw new ModelLoadException($"{where}: field 'dims': dimension {dims[d]} is too large");
                shape[d] = (int)dims[d];
                // Multiply in a way that cannot overflow before comparing with the limit.
                if (dims[d] != 0 && count > limits.MaxTensorBytes / size / dims[d])
                    throw new ModelLoadException($"{where}: field 'dims': shape {Ir.Tensor.FormatShape(shape.AsSpan(0, d + 1))}... asks for more than {limits.MaxTensorBytes} bytes");
                count *= dims[d];
            }
            long byteCount = count * size;
            _totalTensorBytes += byteCount;
            if (_totalTensorBytes > limits.MaxModelBytes) throw new ModelLoadException($"{where}: tensors total more than {limits.MaxModelBytes} bytes");

            if (external || externalEntries.Count > 0)
            {
                if (hasRaw) throw new ModelLoadException($"{where}: field 'raw_data' is set on a tensor whose data is external");
                return Ir.Tensor.FromBytes(dataType, shape, ReadExternal(where, externalEntries, byteCount));
            }
            if (hasRaw)
            {
                if (raw.Length != byteCount)
                    throw new ModelLoadException($"{where}: field 'raw_data' holds {raw.Length} bytes, shape {Ir.Tensor.FormatShape(shape)} of {dataType.ToName()} needs {byteCount}");
                return Ir.Tensor.FromBytes(dataType, shape, raw.ToArray());
            }
            var tensor = Ir.Tensor.Allocate(dataType, shape);
            FillTyped(tensor, where, count, floats, doubles, int32s, int64s, uint64s);
            return tensor;
        }

        private static void FillTyped(Tensor t, string where, long count, List<float> floats, List<double> doubles,
            List<long> int32s, List<long> int64s, List<ulong> uint64s)
        {
            void Need(string field, int have, long want)
            {
                if (have != want) throw new ModelLoadException($"{where}: field '{field}' holds {have} values, shape {t} needs {want}");
            }
            switch (t.DataType)
            {
                case DataType.Float:
                    Need("float_data", floats.Count, count);
                    CollectionsMarshal.AsSpan(floats).CopyTo(t.Span<float>());
                    break;
                case DataType.Complex64:
                    Need("float_data", floats.Count, count * 2);
                    MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(floats)).CopyTo(t.Bytes);
                    break;
                case DataType.Double:
                    Need("double_data", doubles.Count, count);
                    CollectionsMarshal.AsSpan(doubles).CopyTo(t.Span<double>());
                    break;
                case DataType.Complex128:
                    Need("double_data", doubles.Count, count * 2);
                    MemoryMarshal.AsBytes(CollectionsMarshal.AsSpan(doubles)).CopyTo(t.Bytes);
                    break;
                case DataType.Int64:
                    Need("int64_data", int64s.Count, count);
                    CollectionsMarshal.AsSpan(int64s).CopyTo(t.Span<long>());
                    break;
                case DataType.UInt32:
                    Need("uint64_data", uint64s.Count, count);
                    var u32 = t.Span<uint>();
                    for (int i = 0; i < u32.Length; i++) u32[i] = (uint)uint64s[i];
                    break;
                case DataType.UInt64:
                    Need("uint64_data", uint64s.Count, count);
                    CollectionsMarshal.AsSpan(uint64s).CopyTo(t.Span<ulong>());
                    break;
                default:
                    // int32_data carries every type of 32 bits or less, one value per element.
                    Need("int32_data", int32s.Count, count);
                    var bytes = t.Bytes;
                    int size = t.DataType.SizeOf();
                    for (int i = 0; i < int32s.Count; i++)
                    {
                        long v = int32s[i];
                        switch (size)
                        {
                            case 1: bytes[i] = (byte)v; break;
                            case 2: MemoryMarshal.Write(bytes[(i * 2)..], (ushort)v); break;
                            default: MemoryMarshal.Write(bytes[(i * 4)..], (int)v); break;
                        }
                    }
                    break;
            }
        }

        private byte[] ReadExternal(string where, Dictionary<string, string> entries, long byteCount)
        {
            if (!entries.TryGetValue("location", out var location) || location.Length == 0)
                throw new ModelLoadException($"{where}: field 'external_data' has no 'location'");
            if (externalDir is null)
                throw new ModelLoadException($"{where}: external data '{location}' cannot be read: the model was loaded from memory without a directory");
            if (Path.IsPathRooted(location) || location.Split('/', '\\').Contains(".."))
                throw new ModelLoadException($"{where}: external data location '{location}' must be a relative path inside the model's directory");
            long offset = 0, length = byteCount;
            if (entries.TryGetValue("offset", out var o) && (!long.TryParse(o, out offset) || offset < 0))
                throw new ModelLoadException($"{where}: external data 'offset' is not a non-negative integer: '{o}'");
            if (entries.TryGetValue("length", out var l) && (!long.TryParse(l, out length) || length != byteCount))
                throw new ModelLoadException($"{where}: external data 'length' is '{l}', the shape needs {byteCount} bytes");
            string path = Path.Combine(externalDir, location);
            try
            {
                using var f = File.OpenRead(path);
                if (offset + byteCount > f.Length)
                    throw new ModelLoadException($"{where}: external data file '{location}' has {f.Length} bytes, {byteCount} are needed at offset {offset}");
                var bytes = new byte[byteCount];
                f.Seek(offset, SeekOrigin.Begin);
                f.ReadExactly(bytes);
                return bytes;
            }
            catch (IOException e) { throw new ModelLoadException($"{where}: cannot read external data '{location}': {e.Message}", e); }
            catch (UnauthorizedAccessException e) { throw new ModelLoadException($"{where}: cannot read external data '{location}': {e.Message}", e); }
        }
    }
}
