namespace EdgeAgent.Kernels;

/// <summary>What a float reduction computes over its axis.</summary>
public enum ReduceKind
{
    /// <summary>Sum (ONNX ReduceSum).</summary>
    Sum,
    /// <summary>Sum divided by the axis length (ONNX ReduceMean).</summary>
    Mean,
    /// <summary>Maximum (ONNX ReduceMax).</summary>
    Max,
}

/// <summary>
/// Reduction of a contiguous tensor viewed as [outer, axis, inner], portable C#: the specification.
/// With inner = 1 each row is summed in the canonical 16-lane order (<see cref="FloatMath.Sum"/>); with
/// inner &gt; 1 each output element is a sequential sum over the axis, starting from the first element.
/// Mean divides the sum by the axis length; max uses MAXPS semantics (<see cref="FloatMath.Max"/>).
/// </summary>
internal static class ReduceScalar
{
    public static void Run(ReduceKind kind, ReadOnlySpan<float> x, Span<float> y, int axis, int inner, int outerStart, int outerEnd)
    {
        for (int o = outerStart; o < outerEnd; o++)
        {
            ReadOnlySpan<float> block = x.Slice(o * axis * inner, axis * inner);
            Span<float> dst = y.Slice(o * inner, inner);
            if (inner == 1)
            {
                dst[0] = kind switch
                {
                    ReduceKind.Max => RowMax(block),
                    ReduceKind.Mean => FloatMath.Sum(block) / axis,
                    _ => FloatMath.Sum(block),
                };
                continue;
            }
            block.Slice(0, inner).CopyTo(dst);
            for (int a = 1; a < axis; a++)
            {
                ReadOnlySpan<float> row = block.Slice(a * inner, inner);
                if (kind == ReduceKind.Max)
                    for (int j = 0; j < inner; j++) dst[j] = FloatMath.Max(dst[j], row[j]);
                else
                    for (int j = 0; j < inner; j++) dst[j] += row[j];
            }
            if (kind == ReduceKind.Mean)
                for (int j = 0; j < inner; j++) dst[j] /= axis;
        }
    }

    private static float RowMax(ReadOnlySpan<float> row)
    {
        float m = row[0];
        for (int i = 1; i < row.Length; i++) m = FloatMath.Max(m, row[i]);
        return m;
    }
}
