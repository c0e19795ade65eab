namespace EdgeAgent.Runtime.Ir;

/// <summary>
/// A named value's declared type: element type and, when declared, a shape whose dims may be symbolic.
/// A null <see cref="Shape"/> means the rank is unknown.
/// </summary>
public sealed class ValueInfo(string name, DataType elementType, IReadOnlyList<Dim>? shape)
{
    public string Name { get; set; } = name;
    public DataType ElementType { get; set; } = elementType;
    public IReadOnlyList<Dim>? Shape { get; set; } = shape;
    public string DocString { get; set; } = "";

    public static ValueInfo Of(string name, DataType type, params int[] shape) =>
        new(name, type, shape.Select(d => Dim.Known(d)).ToArray());

    /// <summary>The shape if every dim is a number, otherwise null.</summary>
    public int[]? ConcreteShape()
    {
        if (Shape is null) return null;
        var dims = new int[Shape.Count];
        for (int i = 0; i < dims.Length; i++)
        {
            if (Shape[i].Value is not { } v || v < 0 || v > int.MaxValue) return null;
            dims[i] = (int)v;
        }
        return dims;
    }

    public override string ToString() =>
        $"{Name}: {ElementType.ToName()}{(Shape is null ? "[?]" : "[" + string.Join(",", Shape) + "]")}";
}
