using System.Text;
using Google.Protobuf;

namespace EdgeAgent.Runtime.Onnx;

/// <summary>
/// Reads one protobuf message that lies in a region of a byte array, without copying nested
/// messages: a length-delimited field becomes another reader over its sub-region. Every wire error
/// becomes a <see cref="ModelLoadException"/> that names <see cref="Where"/> (the message path).
/// </summary>
internal sealed class ProtoReader
{
    private readonly byte[] _buffer;
    private readonly int _start;
    private readonly int _end;
    private CodedInputStream _input;
    private int _field;
    private WireFormat.WireType _wire;

    /// <summary>Path of the message being read, e.g. "graph 'main' / node 'conv1'".</summary>
    public string Where { get; }

    public ProtoReader(byte[] buffer, int offset, int length, string where)
    {
        _buffer = buffer;
        _start = offset;
        _end = offset + length;
        _input = new CodedInputStream(buffer, offset, length);
        Where = where;
    }

    /// <summary>A fresh reader over the same (unread) message, labelled <paramref name="where"/>.</summary>
    public ProtoReader(ProtoReader unread, string where) : this(unread._buffer, unread._start, unread._end - unread._start, where) { }

    public int Field => _field;

    public WireFormat.WireType WireType => _wire;

    /// <summary>Advances to the next field; false at the end of the message.</summary>
    public bool Next()
    {
        try
        {
            if (_input.IsAtEnd) return false;
            uint tag = _input.ReadTag();
            if (tag == 0) throw Fail("a zero tag");
            _field = WireFormat.GetTagFieldNumber(tag);
            _wire = WireFormat.GetTagWireType(tag);
            if (_field <= 0 || (int)_wire > 5 || _wire is WireFormat.WireType.StartGroup or WireFormat.WireType.EndGroup)
                throw Fail($"invalid tag {tag} (field {_field}, wire type {(int)_wire})");
            return true;
        }
        catch (InvalidProtocolBufferException e)
        {
            throw Fail(e.Message, e);
        }
    }

    public ModelLoadException Fail(string what, Exception? inner = null)
    {
        string message = $"{Where}: malformed field {_field}: {what}";
        return inner is null ? new ModelLoadException(message) : new ModelLoadException(message, inner);
    }

    public ModelLoadException Invalid(string fieldName, string what) => new($"{Where}: field '{fieldName}': {what}");

    private void Expect(WireFormat.WireType wire, string fieldName)
    {
        if (_wire != wire) throw Invalid(fieldName, $"wire type {(int)_wire} where {(int)wire} was expected");
    }

    public long Int64(string fieldName)
    {
        Expect(WireFormat.WireType.Varint, fieldName);
        try { return _input.ReadInt64(); }
        catch (InvalidProtocolBufferException e) { throw Fail(e.Message, e); }
    }

    public int Int32(string fieldName)
    {
        Expect(WireFormat.WireType.Varint, fieldName);
        try { return _input.ReadInt32(); }
        catch (InvalidProtocolBufferException e) { throw Fail(e.Message, e); }
    }

    public float Float(string fieldName)
    {
        Expect(WireFormat.WireType.Fixed32, fieldName);
        try { return _input.ReadFloat(); }
        catch (InvalidProtocolBufferException e) { throw Fail(e.Message, e); }
    }

    /// <summary>The region of the current length-delimited field, consumed.</summary>
    public (int Offset, int Length) Region(string fieldName)
    {
        Expect(WireFormat.WireType.LengthDelimited, fieldName);
        int length;
        long start;
        try
        {
            length = _input.ReadLength();
            start = _input.Position;
        }
        catch (InvalidProtocolBufferException e) { throw Fail(e.Message, e); }
        if (length < 0 || start + length > _end)
            throw Invalid(fieldName, $"length {length} runs past the end of the enclosing message ({_end - start} bytes left)");
        int next = (int)start + length;
        _input = new CodedInputStream(_buffer, next, _end - next);
        return ((int)start, length);
    }

    public ReadOnlySpan<byte> Bytes(string fieldName)
    {
        var (offset, length) = Region(fieldName);
        return _buffer.AsSpan(offset, length);
    }

    public string String(string fieldName)
    {
        var bytes = Bytes(fieldName);
        try { return new UTF8Encoding(false, true).GetString(bytes); }
        catch (DecoderFallbackException) { throw Invalid(fieldName, "not valid UTF-8"); }
    }

    public ProtoReader Message(string fieldName, string where)
    {
        var (offset, length) = Region(fieldName);
        return new ProtoReader(_buffer, offset, length, where);
    }

    /// <summary>Appends a repeated varint field, packed or not.</summary>
    public void Int64s(string fieldName, List<long> into, long maxCount) =>
        Varints(fieldName, into, maxCount, static input => input.ReadInt64());

    /// <summary>Appends a repeated unsigned varint field, packed or not.</summary>
    public void UInt64s(string fieldName, List<ulong> into, long maxCount) =>
        Varints(fieldName, into, maxCount, static input => input.ReadUInt64());

    private void Varints<T>(string fieldName, List<T> into, long maxCount, Func<CodedInputStream, T> read)
    {
        try
        {
            if (_wire == WireFormat.WireType.Varint)
            {
                into.Add(read(_input));
            }
            else
            {
                var (offset, length) = Region(fieldName);
                var packed = new CodedInputStream(_buffer, offset, length);
                while (!packed.IsAtEnd)
                {
                    if (into.Count >= maxCount) throw Invalid(fieldName, $"more than {maxCount} values");
                    into.Add(read(packed));
                }
            }
        }
        catch (InvalidProtocolBufferException e) { throw Fail(e.Message, e); }
        if (into.Count > maxCount) throw Invalid(fieldName, $"more than {maxCount} values");
    }

    /// <summary>Appends a repeated fixed-width field (float: 4 bytes, double: 8), packed or not.</summary>
    public void Fixed<T>(string fieldName, List<T> into, long maxCount) where T : unmanaged
    {
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        var single = size == 4 ? WireFormat.WireType.Fixed32 : WireFormat.WireType.Fixed64;
        if (_wire == single)
        {
            try
            {
                T v = size == 4 ? (T)(object)_input.ReadFloat() : (T)(object)_input.ReadDouble();
                into.Add(v);
            }
            catch (InvalidProtocolBufferException e) { throw Fail(e.Message, e); }
        }
        else
        {
            var bytes = Bytes(fieldName);
            if (bytes.Length % size != 0) throw Invalid(fieldName, $"packed length {bytes.Length} is not a multiple of {size}");
            if (into.Count + bytes.Length / size > maxCount) throw Invalid(fieldName, $"more than {maxCount} values");
            into.AddRange(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes));
        }
        if (into.Count > maxCount) throw Invalid(fieldName, $"more than {maxCount} values");
    }

    /// <summary>Skips the current field, whatever it is.</summary>
    public void Skip()
    {
        if (_wire == WireFormat.WireType.LengthDelimited)
        {
            Region("unknown");
            return;
        }
        try { _input.SkipLastField(); }
        catch (InvalidProtocolBufferException e) { throw Fail(e.Message, e); }
    }
}
