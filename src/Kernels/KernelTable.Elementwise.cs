namespace EdgeAgent.Kernels;

public sealed partial class KernelTable
{
    private SimdPath _elementwisePath;

    partial void FillElementwise() => _elementwisePath = SimdPaths.For(Isa);

    /// <summary>
    /// Requantized element-wise add or multiply with broadcasting (ONNX QLinearAdd / QLinearMul), u8 tensors.
    /// Computes output elements [<paramref name="start"/>, <paramref name="start"/> + <paramref name="count"/>)
    /// (flat, row-major) so callers can split the output over threads.
    /// Same-shape inputs and a broadcast scalar run vector code end to end; other broadcasts run vector code on
    /// each contiguous run of the innermost merged dimension.
    /// </summary>
    /// <param name="op">Add or Mul.</param>
    /// <param name="plan">The broadcast of A's shape against B's, built once per node.</param>
    /// <param name="a">A, with <see cref="BroadcastPlan.ALength"/> elements.</param>
    /// <param name="b">B, with <see cref="BroadcastPlan.BLength"/> elements.</param>
    /// <param name="q">Scales and zero points of A, B and the output, and the output clamp.</param>
    /// <param name="c">The output, <see cref="BroadcastPlan.OutputLength"/> elements.</param>
    /// <param name="start">First output element to compute.</param>
    /// <param name="count">Number of output elements to compute.</param>
    public void QLinearBinary(QLinearBinaryOp op, BroadcastPlan plan, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b,
        in QLinearBinaryParams q, Span<byte> c, int start, int count)
    {
        q.Validate($"QLinear{op}", 0, 255);
        RunQLinearBinary(op, plan, a, b, q, c, start, count);
    }

    /// <summary>Requantized element-wise add or multiply with broadcasting, s8 tensors; otherwise as the u8 overload.</summary>
    public void QLinearBinary(QLinearBinaryOp op, BroadcastPlan plan, ReadOnlySpan<sbyte> a, ReadOnlySpan<sbyte> b,
        in QLinearBinaryParams q, Span<sbyte> c, int start, int count)
    {
        q.Validate($"QLinear{op}", -128, 127);
        RunQLinearBinary(op, plan, a, b, q, c, start, count);
    }

    private unsafe void RunQLinearBinary<T>(QLinearBinaryOp op, BroadcastPlan plan, ReadOnlySpan<T> a, ReadOnlySpan<T> b,
        in QLinearBinaryParams q, Span<T> c, int start, int count) where T : unmanaged
    {
        string kernel = $"QLinear{op}";
        ArgumentNullException.ThrowIfNull(plan);
        KernelArguments.CheckLength(kernel, "A", a.Length, plan.ALength);
        KernelArguments.CheckLength(kernel, "B", b.Length, plan.BLength);
        KernelArguments.CheckLength(kernel, "output", c.Length, plan.OutputLength);
        KernelArguments.CheckRange(kernel, "output elements", start, count, plan.OutputLength);
        if (count == 0) return;
        fixed (T* pa = a)
        fixed (T* pb = b)
        fixed (T* pc = c)
        {
            var row = new QLinearBinaryRow<T> { A = pa, B = pb, C = pc, K = new QLinearBinaryConstants(op, q), Path = _elementwisePath };
            plan.ForEachRow(start, count, ref row);
        }
    }

    private unsafe struct QLinearBinaryRow<T> : IBroadcastRow where T : unmanaged
    {
        public T* A, B, C;
        public QLinearBinaryConstants K;
        public SimdPath Path;

        public void Run(int outOffset, int aOffset, int bOffset, int length, int aStride, int bStride)
        {
            T* a = A + aOffset, b = B + bOffset, c = C + outOffset;
            switch (Path)
            {
                case SimdPath.Neon when System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported: QLinearBinaryNeon.Row(K, a, b, c, length, aStride, bStride); break;
                case SimdPath.Avx2 when System.Runtime.Intrinsics.X86.X86Base.IsSupported:
                case SimdPath.Avx512 when System.Runtime.Intrinsics.X86.X86Base.IsSupported: QLinearBinaryAvx2.Row(K, a, b, c, length, aStride, bStride); break;
                default: QLinearBinaryScalar.Row(K, a, b, c, length, aStride, bStride); break;
            }
        }
    }
}
