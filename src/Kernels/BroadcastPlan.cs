namespace EdgeAgent.Kernels;

/// <summary>
/// How two tensors broadcast against each other (ONNX multidirectional broadcasting: shapes right-aligned,
/// a dimension of 1 stretches). Built once per node, outside the hot path: it merges adjacent dimensions
/// that move together, so most real cases reduce to a few long contiguous or scalar-broadcast rows, which is
/// what the vector kernels run on.
/// </summary>
public sealed class BroadcastPlan
{
    private readonly int[] _dims;      // merged output dimensions, outermost first
    private readonly int[] _aStrides;  // element strides of A per merged dimension (0 = broadcast)
    private readonly int[] _bStrides;

    /// <summary>The broadcast output shape.</summary>
    public IReadOnlyList<int> OutputShape { get; }

    /// <summary>Elements in the output.</summary>
    public int OutputLength { get; }

    /// <summary>Elements of A and B.</summary>
    public int ALength { get; }
    public int BLength { get; }

    /// <summary>Merged dimensions (what the kernels iterate); 1 for same-shape and scalar cases.</summary>
    public int Rank => _dims.Length;

    private BroadcastPlan(int[] outputShape, int aLength, int bLength, int[] dims, int[] aStrides, int[] bStrides)
    {
        OutputShape = outputShape;
        OutputLength = dims.Aggregate(1, (p, d) => checked(p * d));
        ALength = aLength;
        BLength = bLength;
        _dims = dims;
        _aStrides = aStrides;
        _bStrides = bStrides;
    }

    /// <summary>Builds the plan; an incompatible pair of shapes is an error naming both.</summary>
    public static BroadcastPlan Create(ReadOnlySpan<int> aShape, ReadOnlySpan<int> bShape)
    {
        int rank = Math.Max(aShape.Length, bShape.Length);
        var outShape = new int[rank];
        var aDims = new int[rank];
        var bDims = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int ai = i - (rank - aShape.Length), bi = i - (rank - bShape.Length);
            int a = ai >= 0 ? aShape[ai] : 1, b = bi >= 0 ? bShape[bi] : 1;
            if (a < 0 || b < 0) throw new ArgumentException($"broadcast: negative dimension in [{string.Join(",", aShape.ToArray())}] or [{string.Join(",", bShape.ToArray())}]");
            if (a != b && a != 1 && b != 1)
                throw new ArgumentException($"broadcast: shapes [{string.Join(",", aShape.ToArray())}] and [{string.Join(",", bShape.ToArray())}] are incompatible at axis {i} ({a} vs {b})");
            aDims[i] = a;
            bDims[i] = b;
            outShape[i] = a == 1 ? b : a;
        }
        int aLength = aDims.Aggregate(1, (p, d) => checked(p * d)), bLength = bDims.Aggregate(1, (p, d) => checked(p * d));
        if (outShape.Contains(0)) return new(outShape, aLength, bLength, [0], [0], [0]);

        // Contiguous strides, 0 where the input is broadcast; then drop size-1 axes and merge neighbours
        // whose strides chain (outer stride = inner stride * inner size for both inputs).
        var dims = new List<int>();
        var sa = new List<int>();
        var sb = new List<int>();
        int strideA = 1, strideB = 1;
        for (int i = rank - 1; i >= 0; i--)
        {
            int d = outShape[i];
            int a = aDims[i] == 1 ? 0 : strideA, b = bDims[i] == 1 ? 0 : strideB;
            strideA *= aDims[i];
            strideB *= bDims[i];
            if (d == 1) continue;
            if (dims.Count > 0)
            {
                int last = dims.Count - 1;
                bool chainA = a == sa[last] * dims[last] || (a == 0 && sa[last] == 0);
                bool chainB = b == sb[last] * dims[last] || (b == 0 && sb[last] == 0);
                if (chainA && chainB)
                {
                    dims[last] *= d;
                    continue;
                }
            }
            dims.Add(d);
            sa.Add(a);
            sb.Add(b);
        }
        if (dims.Count == 0) { dims.Add(1); sa.Add(0); sb.Add(0); }
        dims.Reverse();
        sa.Reverse();
        sb.Reverse();
        return new(outShape, aLength, bLength, dims.ToArray(), sa.ToArray(), sb.ToArray());
    }

    /// <summary>
    /// Calls <paramref name="row"/> for each run of the innermost merged dimension inside output range
    /// [start, start + count): output offset, A offset, B offset, run length, A inner stride, B inner stride
    /// (each stride 0 or 1).
    /// </summary>
    internal void ForEachRow<TRow>(int start, int count, ref TRow row) where TRow : struct, IBroadcastRow
    {
        int rank = _dims.Length, inner = _dims[rank - 1];
        int innerA = _aStrides[rank - 1], innerB = _bStrides[rank - 1];
        Span<int> index = stackalloc int[rank];
        int rest = start;
        for (int d = rank - 1; d >= 0; d--)
        {
            index[d] = rest % _dims[d];
            rest /= _dims[d];
        }
        int end = start + count, pos = start;
        while (pos < end)
        {
            int aOff = 0, bOff = 0;
            for (int d = 0; d < rank; d++)
            {
                aOff += index[d] * _aStrides[d];
                bOff += index[d] * _bStrides[d];
            }
            int len = Math.Min(inner - index[rank - 1], end - pos);
            row.Run(pos, aOff, bOff, len, innerA, innerB);
            pos += len;
            index[rank - 1] += len;
            for (int d = rank - 1; d > 0 && index[d] == _dims[d]; d--)
            {
                index[d] = 0;
                index[d - 1]++;
            }
        }
    }
}

/// <summary>One run of a broadcast binary operation (see <see cref="BroadcastPlan.ForEachRow"/>).</summary>
internal interface IBroadcastRow
{
    void Run(int outOffset, int aOffset, int bOffset, int length, int aStride, int bStride);
}
