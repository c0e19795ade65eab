using Google.Protobuf;

namespace EdgeAgent.Bench.Kernels;

/// <summary>
/// Writes one-node ONNX models (ModelProto) with Google.Protobuf's CodedOutputStream, so the bench needs no
/// model files: a node, its graph inputs and outputs, and its constant initializers.
/// </summary>
public static class OnnxModel
{
    public const int ElemFloat = 1, ElemUInt8 = 2, ElemInt8 = 3, ElemInt32 = 6;

    public sealed record Tensor(string Name, int ElementType, long[] Dims, byte[] Raw);
    public sealed record Value(string Name, int ElementType, long[] Dims);

    public static Tensor Scalar(string name, float v) => new(name, ElemFloat, [], BitConverter.GetBytes(v));
    public static Tensor ScalarU8(string name, byte v) => new(name, ElemUInt8, [], [v]);
    public static Tensor ScalarS8(string name, sbyte v) => new(name, ElemInt8, [], [(byte)v]);
    public static Tensor Floats(string name, long[] dims, float[] v) => new(name, ElemFloat, dims, ToBytes<float>(v));
    public static Tensor Ints(string name, long[] dims, int[] v) => new(name, ElemInt32, dims, ToBytes<int>(v));
    public static Tensor SBytes(string name, long[] dims, sbyte[] v) => new(name, ElemInt8, dims, ToBytes<sbyte>(v));

    private static byte[] ToBytes<T>(T[] v) where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()).ToArray();

    /// <summary>A model of one node: <paramref name="inputs"/> names in order (graph inputs or initializers).</summary>
    public static byte[] Build(string opType, string[] inputs, Value[] graphInputs, Tensor[] initializers, Value output,
        IReadOnlyDictionary<string, long[]>? intsAttributes = null, IReadOnlyDictionary<string, long>? intAttributes = null)
    {
        var node = Message(w =>
        {
            foreach (var i in inputs) { w.WriteTag(1, WireFormat.WireType.LengthDelimited); w.WriteString(i); }
            w.WriteTag(2, WireFormat.WireType.LengthDelimited); w.WriteString(output.Name);
            w.WriteTag(3, WireFormat.WireType.LengthDelimited); w.WriteString("node");
            w.WriteTag(4, WireFormat.WireType.LengthDelimited); w.WriteString(opType);
            foreach (var (name, values) in intsAttributes ?? new Dictionary<string, long[]>())
                Sub(w, 5, Message(a =>
                {
                    a.WriteTag(1, WireFormat.WireType.LengthDelimited); a.WriteString(name);
                    foreach (var v in values) { a.WriteTag(8, WireFormat.WireType.Varint); a.WriteInt64(v); }
                    a.WriteTag(20, WireFormat.WireType.Varint); a.WriteEnum(7); // INTS
                }));
            foreach (var (name, value) in intAttributes ?? new Dictionary<string, long>())
                Sub(w, 5, Message(a =>
                {
                    a.WriteTag(1, WireFormat.WireType.LengthDelimited); a.WriteString(name);
                    a.WriteTag(3, WireFormat.WireType.Varint); a.WriteInt64(value);
                    a.WriteTag(20, WireFormat.WireType.Varint); a.WriteEnum(2); // INT
                }));
        });
        var graph = Message(w =>
        {
            Sub(w, 1, node);
            w.WriteTag(2, WireFormat.WireType.LengthDelimited); w.WriteString("bench");
            foreach (var t in initializers) Sub(w, 5, TensorProto(t));
            foreach (var v in graphInputs) Sub(w, 11, ValueInfo(v));
            Sub(w, 12, ValueInfo(output));
        });
        return Message(w =>
        {
            w.WriteTag(1, WireFormat.WireType.Varint); w.WriteInt64(8); // ir_version
            w.WriteTag(2, WireFormat.WireType.LengthDelimited); w.WriteString("edgeagent-bench");
            Sub(w, 7, graph);
            Sub(w, 8, Message(o => { o.WriteTag(1, WireFormat.WireType.LengthDelimited); o.WriteString(""); o.WriteTag(2, WireFormat.WireType.Varint); o.WriteInt64(13); }));
        });
    }

    private static byte[] TensorProto(Tensor t) => Message(w =>
    {
        foreach (var d in t.Dims) { w.WriteTag(1, WireFormat.WireType.Varint); w.WriteInt64(d); }
        w.WriteTag(2, WireFormat.WireType.Varint); w.WriteInt32(t.ElementType);
        w.WriteTag(8, WireFormat.WireType.LengthDelimited); w.WriteString(t.Name);
        w.WriteTag(9, WireFormat.WireType.LengthDelimited); w.WriteBytes(ByteString.CopyFrom(t.Raw));
    });

    private static byte[] ValueInfo(Value v) => Message(w =>
    {
        w.WriteTag(1, WireFormat.WireType.LengthDelimited); w.WriteString(v.Name);
        var shape = Message(s =>
        {
            foreach (var d in v.Dims) Sub(s, 1, Message(dim => { dim.WriteTag(1, WireFormat.WireType.Varint); dim.WriteInt64(d); }));
        });
        var tensorType = Message(tt => { tt.WriteTag(1, WireFormat.WireType.Varint); tt.WriteInt32(v.ElementType); Sub(tt, 2, shape); });
        Sub(w, 2, Message(tp => Sub(tp, 1, tensorType)));
    });

    private static void Sub(CodedOutputStream w, int field, byte[] message)
    {
        w.WriteTag(field, WireFormat.WireType.LengthDelimited);
        w.WriteBytes(ByteString.CopyFrom(message));
    }

    private static byte[] Message(Action<CodedOutputStream> write)
    {
        using var stream = new MemoryStream();
        using (var w = new CodedOutputStream(stream, leaveOpen: true)) write(w);
        return stream.ToArray();
    }
}
