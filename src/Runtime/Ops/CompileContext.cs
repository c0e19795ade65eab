using EdgeAgent.Runtime.Execution;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>What the planner knows about one value: element type, concrete shape, and the value itself if constant.</summary>
public sealed class ValueState(DataType type, int[] shape, Tensor? constant = null)
{
    public DataType Type { get; } = type;
    public int[] Shape { get; } = shape;
    public Tensor? Constant { get; } = constant;

    public static ValueState Of(Tensor constant) => new(constant.DataType, constant.Shape.ToArray(), constant);
}

/// <summary>
/// The compile-time view of one node: its attributes, the opset, what is known of its inputs, and the
/// output types and shapes the operator declares. Errors raised here name the node and the field.
/// </summary>
public sealed class CompileContext
{
    private readonly ValueState?[] _inputs;
    private readonly ValueState?[] _outputs;

    public Node Node { get; }
    public long Opset { get; }

    /// <summary>Largest tensor an output or a precomputed table may occupy.</summary>
    public long MaxTensorBytes { get; }

    /// <summary>The kernel table weights are packed for and the worker pool kernels split work over.</summary>
    public KernelResources Resources { get; }

    public CompileContext(Node node, long opset, ValueState?[] inputs, long maxTensorBytes = 1L << 30, KernelResources? resources = null)
    {
        Resources = resources ?? KernelResources.Default;
        MaxTensorBytes = maxTensorBytes;
        Node = node;
        Opset = opset;
        _inputs = inputs;
        _outputs = new ValueState?[node.Outputs.Count];
    }

    public int InputCount => _inputs.Length;
    public int OutputCount => _outputs.Length;

    public bool HasInput(int i) => i < _inputs.Length && _inputs[i] is not null;
    public bool HasOutput(int i) => i < _outputs.Length && Node.Outputs[i].Length > 0;

    public ValueState Input(int i) =>
        i < _inputs.Length && _inputs[i] is { } s ? s : throw Error($"input #{i}", "is required but missing");

    public DataType InputType(int i) => Input(i).Type;
    public int[] InputShape(int i) => Input(i).Shape;
    public int InputRank(int i) => Input(i).Shape.Length;

    /// <summary>The constant value of input <paramref name="i"/>, or null when known only at run time.</summary>
    public Tensor? Constant(int i) => HasInput(i) ? _inputs[i]!.Constant : null;

    /// <summary>The value of an input the output shape depends on; plans per Run when it is not constant.</summary>
    public Tensor RequireValue(int i, string what)
    {
        var state = Input(i);
        return state.Constant ?? throw new ShapeDependsOnValuesException($"node '{Node.DisplayName}': the output shape depends on the value of {what}");
    }

    public void SetOutput(int i, DataType type, int[] shape)
    {
        if (i >= _outputs.Length) return; // optional outputs the model does not use
        try
        {
            Tensor.CheckedElementCount(type, shape, out int bytes);
            if (bytes > MaxTensorBytes) throw new ArgumentException($"shape {Tensor.FormatShape(shape)} of {type.ToName()} needs {bytes} bytes, more than the limit of {MaxTensorBytes}");
        }
        catch (ArgumentException e) { throw Error($"output #{i}", e.Message); }
        catch (NotSupportedException e) { throw Error($"output #{i}", e.Message); }
        _outputs[i] = new ValueState(type, shape);
    }

    public ValueState? Output(int i) => _outputs[i];

    public ModelLoadException Error(string field, string message) =>
        new($"node '{Node.DisplayName}' ({Node.OpType}): {field}: {message}");

    /// <summary>A valid use of the operator that this runtime does not implement (e.g. training mode).</summary>
    public ModelLoadException Unsupported(string field, string message) =>
        new($"node '{Node.DisplayName}' ({Node.OpType}): {field}: {message}") { IsUnsupportedFeature = true };

    /// <summary>Refuses precomputed tables (im2col indices, resize coordinates) larger than a tensor may be.</summary>
    public void RequireTableSize(long elements, string field)
    {
        if (elements * 4 > MaxTensorBytes) throw Error(field, $"needs a table of {elements} entries, more than the limit allows");
    }

    public void RequireType(int i, params DataType[] allowed)
    {
        var t = InputType(i);
        if (Array.IndexOf(allowed, t) < 0)
            throw Error($"input #{i} '{Node.Inputs[i]}'", $"type {t.ToName()} is not supported (expected {string.Join(" or ", allowed.Select(a => a.ToName()))})");
    }

    public long Int(string name, long fallback) => Node.GetInt(name, fallback);
    public float Float(string name, float fallback) => Node.GetFloat(name, fallback);
    public string String(string name, string fallback) => Node.GetString(name, fallback);
    public long[]? Ints(string name) => Node.GetInts(name);
    public float[]? Floats(string name) => Node.GetFloats(name);

    /// <summary>Normalises a possibly negative axis against <paramref name="rank"/>, naming the field on error.</summary>
    public int Axis(long axis, int rank, string field = "axis")
    {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw Error(field, $"axis {axis} is out of range for rank {rank}");
        return (int)a;
    }

    /// <summary>Integer list from an attribute (older opsets) or a constant input (newer), or null if neither.</summary>
    public long[]? IntsFromAttributeOrInput(string attribute, int input, string what)
    {
        if (HasInput(input)) return RequireValue(input, what).ToInt64Array();
        return Ints(attribute);
    }
}
