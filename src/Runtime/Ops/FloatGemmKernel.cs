using EdgeAgent.Kernels;
using EdgeAgent.Runtime.Ir;

namespace EdgeAgent.Runtime.Ops;

/// <summary>
/// Float MatMul and Gemm with a constant right-hand matrix on the SGEMM kernels: B is packed once at load
/// (with Gemm's alpha folded in), a per-column bias (Gemm's beta·C) and a fused ReLU/Clip run in the kernel's
/// epilogue, other fused activations right after each block. Rows split over the session's threads when there
/// are enough of them, otherwise whole 16-column panels do; each output element is the same FMA chain either
/// way, so the thread count never changes a bit.
/// </summary>
internal sealed class FloatGemmKernel : OpKernel, IParallelWork
{
    // Below this many multiply-adds a dispatch to the pool costs more than it saves.
    private const long MinParallelWork = 32 * 1024;

    private readonly KernelTable _table;
    private readonly WorkerPool? _pool;
    private readonly float[] _packed, _bias;
    private readonly int _rows, _n, _k;
    private readonly FusedActivation _activation;
    private readonly int _chunks;
    private readonly bool _splitRows;
    private Tensor? _a, _y;

    private FloatGemmKernel(CompileContext c, float[] packed, float[] bias, int rows, int n, int k, FusedActivation activation)
    {
        _table = c.Resources.Table;
        _pool = c.Resources.Pool;
        _packed = packed; _bias = bias; _rows = rows; _n = n; _k = k; _activation = activation;
        int threads = _pool?.ThreadCount ?? 1;
        int panels = (n + SgemmPacking.PanelWidth - 1) / SgemmPacking.PanelWidth;
        if (threads <= 1 || (long)rows * n * k < MinParallelWork) _chunks = 1;
        else if (rows >= 8 * threads) { _splitRows = true; _chunks = Math.Min(rows / 4, threads * 2); }
        else _chunks = Math.Min(panels, threads);
    }

    public override string Path => $"sgemm.{_table.SgemmPathName}{_activation.PathSuffix}";

    /// <summary>MatMul of any A (rank ≥ 1) by a constant 2-D B: the leading dims of A become GEMM rows.</summary>
    public static OpKernel? TryMatMul(CompileContext c, FusedActivation activation)
    {
        if (c.Constant(1) is not { Rank: 2 } b) return null;
        var a = c.InputShape(0);
        int k = a[^1], n = b.Shape[1];
        if (b.Shape[0] != k || k == 0 || n == 0) return null;
        long rows = 1;
        for (int d = 0; d < a.Length - 1; d++) rows *= a[d];
        if (rows == 0 || rows > int.MaxValue) return null;
        var packed = new float[SgemmPacking.PackedLength(k, n)];
        SgemmPacking.Pack(b.Span<float>(), n, k, n, packed);
        return new FloatGemmKernel(c, packed, [], (int)rows, n, k, activation);
    }

    /// <summary>Gemm with transA = 0, a constant B and a constant C that is one value or one row (or no C).</summary>
    public static OpKernel? TryGemm(CompileContext c, int m, int n, int k, bool transA, bool transB, float alpha, float beta, FusedActivation activation)
    {
        if (transA || m == 0 || n == 0 || k == 0 || c.Constant(1) is not { Rank: 2 } b) return null;
        float[] bias = [];
        if (c.HasInput(2) && beta != 0)
        {
            if (c.Constant(2) is not { } cv) return null;
            var cs = cv.Shape;
            bool row = cv.ElementCount == n && (cs.Length == 1 || cs.Length == 2 && cs[0] == 1);
            if (!row && cv.ElementCount != 1) return null;
            bias = new float[n];
            var values = cv.Span<float>();
            for (int j = 0; j < n; j++) bias[j] = beta * values[row ? j : 0];
        }
        ReadOnlySpan<float> weights = b.Span<float>();
        if (alpha != 1)
        {
            var scaled = new float[weights.Length];
            System.Numerics.Tensors.TensorPrimitives.Multiply(weights, alpha, scaled);
            weights = scaled;
        }
        var packed = new float[SgemmPacking.PackedLength(k, n)];
        if (transB) SgemmPacking.PackTransposed(weights, k, k, n, packed);
        else SgemmPacking.Pack(weights, n, k, n, packed);
        return new FloatGemmKernel(c, packed, bias, m, n, k, activation);
    }

    public override void Run(Tensor?[] inputs, Tensor[] outputs)
    {
        _a = inputs[0]!;
        _y = outputs[0];
        if (_chunks == 1) Execute(0);
        else _pool!.Run(this, _chunks);
        _a = _y = null;
    }

    public void Execute(int index)
    {
        var a = _a!.Span<float>();
        var y = _y!.Span<float>();
        if (_splitRows)
        {
            int r0 = (int)((long)_rows * index / _chunks), r1 = (int)((long)_rows * (index + 1) / _chunks);
            if (r1 <= r0) return;
            var cRows = y.Slice(r0 * _n, (r1 - r0) * _n);
            _table.Sgemm(r1 - r0, _n, _k, a.Slice(r0 * _k, (r1 - r0) * _k), _k, _packed, _bias, cRows, _n, _activation.Clamp);
            _activation.ApplyInPlace(cRows, 0, r1 - r0, _n, _n);
            return;
        }
        const int W = SgemmPacking.PanelWidth;
        int panels = (_n + W - 1) / W;
        int p0 = panels * index / _chunks, p1 = panels * (index + 1) / _chunks;
        if (p1 <= p0) return;
        int n0 = p0 * W, width = Math.Min(p1 * W, _n) - n0;
        var packed = _packed.AsSpan(SgemmPacking.PanelOffset(n0, _k));
        ReadOnlySpan<float> bias = _bias.Length == 0 ? default : _bias.AsSpan(n0, width);
        var c = y.Slice(n0);
        _table.Sgemm(_rows, width, _k, a, _k, packed, bias, c, _n, _activation.Clamp);
        _activation.ApplyInPlace(c, 0, _rows, width, _n);
    }
}
