using EdgeAgent.Kernels;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>
/// QLinearMatMul, MatMulInteger and fused QDQ MatMul/Gemm on the QGEMM kernels: the constant weight matrix
/// is packed once at load, every leading dimension of A becomes GEMM rows, and bias, zero-point
/// corrections, requantization and the fused activation clamp run in the kernel's epilogue.
/// </summary>
internal sealed class Int8GemmKernel : OpKernel
{
    private readonly PackedWeights _weights;
    private readonly WorkerPool? _pool;
    private readonly int _rows, _k, _inputZeroPoint;
    private readonly bool _signedInput;
    private readonly QGemmOutputKind _kind;
    private readonly float[] _scales;
    private readonly int[] _bias, _weightZeroPoints;
    private readonly int _outputZeroPoint, _min, _max;

    private Int8GemmKernel(PackedWeights weights, WorkerPool? pool, int rows, int k, bool signedInput, int inputZeroPoint,
        QGemmOutputKind kind, float[] scales, int[] bias, int[] weightZeroPoints, int outputZeroPoint, int min, int max)
    {
        _weights = weights; _pool = pool; _rows = rows; _k = k; _signedInput = signedInput; _inputZeroPoint = inputZeroPoint;
        _kind = kind; _scales = scales; _bias = bias; _weightZeroPoints = weightZeroPoints;
        _outputZeroPoint = outputZeroPoint; _min = min; _max = max;
    }

    public override string Path => $"qgemm.{_weights.Table.Name}";

    /// <summary>
    /// The kernel for a node whose B and quantization parameters are constants with per-tensor A parameters,
    /// or null (the caller then runs the reference). <paramref name="quantizedOutput"/>: QLinearMatMul input
    /// order (a, sa, za, b, sb, zb, sy, zy[, bias]); otherwise MatMulInteger's (a, b, za, zb).
    /// </summary>
    public static OpKernel? TryCreate(CompileContext c, bool quantizedOutput)
    {
        int ia = 0, ib = quantizedOutput ? 3 : 1, iza = 2, izb = quantizedOutput ? 5 : 3;
        bool transB = c.Int("transB", 0) != 0;
        if (c.Constant(ib) is not { } b || b.Rank != 2) return null;
        var aShape = c.InputShape(ia);
        int k = aShape[^1];
        int n = transB ? b.Shape[0] : b.Shape[1];
        if ((transB ? b.Shape[1] : b.Shape[0]) != k || k == 0 || n == 0) return null;
        long rows = 1;
        for (int d = 0; d < aShape.Length - 1; d++) rows *= aShape[d];
        if (rows > int.MaxValue) return null;
        var za = QuantizationConstants.ZeroPoints(c, iza, 1);
        var zb = QuantizationConstants.ZeroPoints(c, izb, n);
        if (za is null || zb is null) return null;
        var weights = QuantizationConstants.SignedWeights(b, zb);
        int[] weightZeroPoints = zb.All(z => z == 0) ? [] : zb;
        bool signedInput = c.InputType(ia) == DataType.Int8;
        var packed = PackedWeights.Pack(c.Resources.Table, weights, k, n, transB ? k : n, transposed: transB);
        if (!quantizedOutput)
            return new Int8GemmKernel(packed, c.Resources.Pool, (int)rows, k, signedInput, za[0], QGemmOutputKind.Int32, [], [], weightZeroPoints, 0, 0, 0);

        var sa = QuantizationConstants.Scales(c, 1, 1);
        var sb = QuantizationConstants.Scales(c, 4, n);
        var sy = QuantizationConstants.Scales(c, 6, 1);
        var zy = QuantizationConstants.ZeroPoints(c, 7, 1);
        if (sa is null || sb is null || sy is null || zy is null) return null;
        var outType = c.InputType(7);
        var scales = QuantizationConstants.RequantScales(sa[0], sb, sy[0]);
        if (scales.Any(s => !float.IsFinite(s) || s <= 0)) return null;
        if (QuantizationConstants.Int32Bias(c, 8, n) is not { } bias) return null;
        var clamp = QuantizationConstants.Clamp(outType, zy[0], sy[0], c.Float("activation_min", float.NegativeInfinity), c.Float("activation_max", float.PositiveInfinity));
        var kind = outType == DataType.Int8 ? QGemmOutputKind.Int8 : QGemmOutputKind.UInt8;
        return new Int8GemmKernel(packed, c.Resources.Pool, (int)rows, k, signedInput, za[0], kind, scales, bias, weightZeroPoints, zy[0], clamp.Min, clamp.Max);
    }

    public override void Run(Tensor?[] inputs, Tensor[] outputs)
    {
        var a = inputs[0]!;
        var input = _signedInput
            ? QGemmInput.Int8(a.Span<sbyte>(), _rows, _k, _inputZeroPoint)
            : QGemmInput.UInt8(a.Bytes, _rows, _k, _inputZeroPoint);
        var y = outputs[0];
        int n = _weights.N;
        var output = _kind switch
        {
            QGemmOutputKind.Int32 => QGemmOutput.Int32(y.Span<int>(), n),
            QGemmOutputKind.Int8 => QGemmOutput.Int8(y.Span<sbyte>(), n, _scales, _outputZeroPoint, _min, _max),
            _ => QGemmOutput.UInt8(y.Bytes, n, _scales, _outputZeroPoint, _min, _max),
        };
        QGemm.Run(input, _weights, output, _bias, _weightZeroPoints, _pool);
    }
}
