namespace EdgeAgent.Runtime.Training;

/// <summary>A trainable tensor with its gradient. Gradients accumulate until <see cref="ZeroGrad"/>.</summary>
public sealed class Parameter
{
    public Parameter(string name, int[] shape)
    {
        Name = name;
        Shape = shape;
        Value = new float[TrainingTensor.ShapeSize(shape)];
        Grad = new float[Value.Length];
    }

    /// <summary>Name within its layer ("weight", "bias", "scale", ...); the network qualifies it.</summary>
    public string Name { get; }
    public int[] Shape { get; private set; }
    public float[] Value { get; private set; }
    public float[] Grad { get; private set; }

    /// <summary>A frozen parameter keeps its value: optimizers skip it.</summary>
    public bool Frozen { get; set; }

    public int Length => Value.Length;

    public void ZeroGrad() => Array.Clear(Grad);

    internal void CopyFrom(Parameter other)
    {
        if (other.Length != Length) throw new ArgumentException($"parameter '{Name}' has {Length} values, source has {other.Length}");
        other.Value.CopyTo(Value, 0);
        Frozen = other.Frozen;
    }

    /// <summary>Replaces the storage (used when a layer grows); gradients restart at zero.</summary>
    internal void Resize(int[] shape, float[] value)
    {
        if (value.Length != TrainingTensor.ShapeSize(shape)) throw new ArgumentException($"parameter '{Name}': value does not match shape");
        Shape = shape;
        Value = value;
        Grad = new float[value.Length];
    }
}
