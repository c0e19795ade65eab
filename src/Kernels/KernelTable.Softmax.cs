namespace EdgeAgent.Kernels;

public sealed partial class KernelTable
{
    /// <summary>
    /// Softmax along the last axis (ONNX Softmax, opset 13 semantics) for rows
    /// [<paramref name="rowStart"/>, <paramref name="rowStart"/> + <paramref name="rowCount"/>) of a
    /// [rows x <paramref name="rowLength"/>] tensor. <paramref name="y"/> may be <paramref name="x"/> (in place).
    /// The exponential is this library's own (about 2 ulp), identical on every path.
    /// </summary>
    public void Softmax(ReadOnlySpan<float> x, Span<float> y, int rowLength, int rowStart, int rowCount) =>
        SoftmaxRows(x, y, rowLength, rowStart, rowCount, log: false);

    /// <summary>Log-softmax along the last axis (ONNX LogSoftmax); arguments as for <see cref="Softmax"/>.</summary>
    public void LogSoftmax(ReadOnlySpan<float> x, Span<float> y, int rowLength, int rowStart, int rowCount) =>
        SoftmaxRows(x, y, rowLength, rowStart, rowCount, log: true);

    private void SoftmaxRows(ReadOnlySpan<float> x, Span<float> y, int rowLength, int rowStart, int rowCount, bool log)
    {
        string kernel = log ? "log-softmax" : "softmax";
        if (rowLength <= 0) throw new ArgumentException($"{kernel}: row length must be positive, got {rowLength}");
        int rows = x.Length / rowLength;
        if (x.Length % rowLength != 0) throw new ArgumentException($"{kernel}: input length {x.Length} is not a multiple of the row length {rowLength}");
        KernelArguments.CheckLength(kernel, "output", y.Length, x.Length);
        KernelArguments.CheckRange(kernel, "rows", rowStart, rowCount, rows);
        for (int r = rowStart; r < rowStart + rowCount; r++)
        {
            ReadOnlySpan<float> xr = x.Slice(r * rowLength, rowLength);
            Span<float> yr = y.Slice(r * rowLength, rowLength);
            switch (_floatPath)
            {
                case SimdPath.Neon when System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported: SoftmaxNeon.Row(xr, yr, log); break;
                case SimdPath.Avx2 when System.Runtime.Intrinsics.X86.X86Base.IsSupported:
                case SimdPath.Avx512 when System.Runtime.Intrinsics.X86.X86Base.IsSupported: SoftmaxAvx2.Row(xr, yr, log); break;
                default: SoftmaxScalar.Row(xr, yr, log); break;
            }
        }
    }

    /// <summary>
    /// Reduces a contiguous tensor along one axis (ONNX ReduceSum / ReduceMean / ReduceMax with one axis,
    /// keepdims either way): the tensor is viewed as [outer, <paramref name="axisLength"/>, <paramref name="inner"/>]
    /// (inner = product of the dimensions after the axis) and <paramref name="y"/> is [outer, inner].
    /// Computes outer indices [<paramref name="outerStart"/>, <paramref name="outerStart"/> + <paramref name="outerCount"/>).
    /// Sums follow a fixed order (16 interleaved lane sums along a contiguous axis, sequential along a strided one),
    /// so every path gives the same bits. A max over values containing NaN or both signed zeros is not covered by
    /// that guarantee.
    /// </summary>
    public void Reduce(ReduceKind kind, ReadOnlySpan<float> x, Span<float> y, int axisLength, int inner, int outerStart, int outerCount)
    {
        const string kernel = "reduce";
        if (axisLength <= 0 || inner <= 0) throw new ArgumentException($"{kernel}: axis length and inner size must be positive, got {axisLength} and {inner}");
        long block = (long)axisLength * inner;
        if (x.Length % block != 0) throw new ArgumentException($"{kernel}: input length {x.Length} is not a multiple of axis x inner = {block}");
        int outer = (int)(x.Length / block);
        KernelArguments.CheckLength(kernel, "output", y.Length, (long)outer * inner);
        KernelArguments.CheckRange(kernel, "outer range", outerStart, outerCount, outer);
        int end = outerStart + outerCount;
        switch (_floatPath)
        {
            case SimdPath.Neon when System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported: ReduceNeon.Run(kind, x, y, axisLength, inner, outerStart, end); break;
            case SimdPath.Avx2 when System.Runtime.Intrinsics.X86.X86Base.IsSupported:
            case SimdPath.Avx512 when System.Runtime.Intrinsics.X86.X86Base.IsSupported: ReduceAvx2.Run(kind, x, y, axisLength, inner, outerStart, end); break;
            default: ReduceScalar.Run(kind, x, y, axisLength, inner, outerStart, end); break;
        }
    }
}
