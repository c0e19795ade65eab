namespace EdgeAgent.Runtime.Training;

/// <summary>
/// A batch of activations or gradients: dense row-major float data whose first dimension is the batch.
/// Layers reuse their output tensors between steps, so a tensor returned by a forward or backward
/// pass is valid until the same layer runs again.
/// </summary>
public sealed class TrainingTensor
{
    public TrainingTensor(int[] shape) : this(new float[ShapeSize(shape)], shape) { }

    public TrainingTensor(float[] data, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length == 0) throw new ArgumentException("a training tensor needs at least the batch dimension", nameof(shape));
        long size = ShapeSize(shape);
        if (data.Length < size)
            throw new ArgumentException($"data holds {data.Length} floats, shape [{string.Join(',', shape)}] needs {size}", nameof(data));
        Data = data;
        Shape = shape;
        Length = (int)size;
    }

    public float[] Data { get; }
    public int[] Shape { get; }

    /// <summary>Elements in use (Data may be a larger, reused buffer).</summary>
    public int Length { get; }

    public int Batch => Shape[0];

    /// <summary>Elements per sample: the product of every dimension after the batch.</summary>
    public int SampleSize => Shape[0] == 0 ? 0 : Length / Shape[0];

    public Span<float> Span => Data.AsSpan(0, Length);

    public Span<float> Sample(int index) => Data.AsSpan(index * SampleSize, SampleSize);

    /// <summary>The same data seen with another shape of the same size (no copy).</summary>
    public TrainingTensor Reshape(int[] shape)
    {
        if (ShapeSize(shape) != Length)
            throw new ArgumentException($"cannot reshape [{string.Join(',', Shape)}] to [{string.Join(',', shape)}]");
        return new TrainingTensor(Data, shape);
    }

    public static int ShapeSize(ReadOnlySpan<int> shape)
    {
        long size = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"negative dimension {d}");
            size *= d;
        }
        if (size > int.MaxValue) throw new ArgumentException("tensor too large");
        return (int)size;
    }

    /// <summary>Returns <paramref name="reuse"/> when it already has this shape, a new tensor otherwise.</summary>
    internal static TrainingTensor Ensure(ref TrainingTensor? reuse, int batch, ReadOnlySpan<int> sampleShape)
    {
        if (reuse is not null && reuse.Shape.Length == sampleShape.Length + 1 && reuse.Shape[0] == batch &&
            reuse.Shape.AsSpan(1).SequenceEqual(sampleShape))
            return reuse;
        var shape = new int[sampleShape.Length + 1];
        shape[0] = batch;
        sampleShape.CopyTo(shape.AsSpan(1));
        int size = ShapeSize(shape);
        // Keep the larger buffer when only the batch shrinks (the last, short batch of an epoch).
        float[] data = reuse is not null && reuse.Data.Length >= size ? reuse.Data : new float[size];
        reuse = new TrainingTensor(data, shape);
        return reuse;
    }

    public static string Describe(ReadOnlySpan<int> shape) => "[" + string.Join(',', shape.ToArray()) + "]";
}
