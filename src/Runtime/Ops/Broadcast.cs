namespace EdgeAgent.Runtime.Ops;

/// <summary>
/// Multidirectional (NumPy) broadcasting precomputed for fixed shapes: dimensions that broadcast the
/// same way are merged, so [N,C,H,W] + [1,C,1,1] becomes a 3-d walk with a contiguous inner run.
/// Kernels iterate rows of the innermost dimension; nothing is allocated per iteration.
/// </summary>
public sealed class Broadcast
{
    private readonly int[] _outerDims;      // coalesced dims except the innermost, outermost first
    private readonly int[][] _outerStrides; // per input, element strides for _outerDims

    public int[] OutputShape { get; }
    public int Count { get; }
    /// <summary>Length of one contiguous inner run.</summary>
    public int Inner { get; }
    /// <summary>Per input: 1 if it advances along the inner run, 0 if it repeats one element.</summary>
    public int[] InnerStride { get; }
    public int Rows => Inner == 0 ? 0 : Count / Inner;

    public Broadcast(params int[][] shapes) : this(OutputShapeOf(shapes), shapes) { }

    public Broadcast(int[] output, int[][] shapes)
    {
        OutputShape = output;
        int rank = output.Length, n = shapes.Length;
        long count = 1;
        foreach (var d in output) count *= d;
        Count = (int)count;
        // Per input and output dim: the input's stride, 0 where it broadcasts.
        var strides = new int[n][];
        for (int k = 0; k < n; k++)
        {
            strides[k] = new int[rank];
            int s = 1;
            var shape = shapes[k];
            for (int d = rank - 1; d >= 0; d--)
            {
                int id = d - (rank - shape.Length);
                int dim = id >= 0 ? shape[id] : 1;
                strides[k][d] = dim == 1 && output[d] != 1 ? 0 : s;
                s *= dim;
            }
        }
        // Coalesce from the innermost outwards: merge d into the run when every input is contiguous across it.
        var dims = new List<int>();
        var merged = new List<int[]>();
        for (int d = rank - 1; d >= 0; d--)
        {
            if (output[d] == 1) continue;
            var st = new int[n];
            for (int k = 0; k < n; k++) st[k] = strides[k][d];
            if (dims.Count > 0)
            {
                int last = dims.Count - 1;
                bool canMerge = true;
                for (int k = 0; k < n; k++)
                {
                    var prev = merged[last][k];
                    bool bothZero = prev == 0 && st[k] == 0;
                    bool contiguous = prev != 0 && st[k] == prev * dims[last];
                    if (!bothZero && !contiguous) { canMerge = false; break; }
                }
                if (canMerge) { dims[last] *= output[d]; continue; }
            }
            dims.Add(output[d]);
            merged.Add(st);
        }
        if (dims.Count == 0) { dims.Add(1); merged.Add(new int[n]); }
        Inner = dims[0];
        InnerStride = new int[n];
        for (int k = 0; k < n; k++) InnerStride[k] = merged[0][k] == 0 ? 0 : 1;
        // Inner stride must be 0 or 1 by construction (the innermost real dim of a C-order tensor has stride 1).
        int outerRank = dims.Count - 1;
        _outerDims = new int[outerRank];
        _outerStrides = new int[n][];
        for (int k = 0; k < n; k++) _outerStrides[k] = new int[outerRank];
        for (int j = 0; j < outerRank; j++)
        {
            _outerDims[outerRank - 1 - j] = dims[j + 1];
            for (int k = 0; k < n; k++) _outerStrides[k][outerRank - 1 - j] = merged[j + 1][k];
        }
    }

    /// <summary>Element offset in input <paramref name="input"/> where row <paramref name="row"/> starts.</summary>
    public int Offset(int input, int row)
    {
        int offset = 0;
        var strides = _outerStrides[input];
        for (int d = _outerDims.Length - 1; d >= 0; d--)
        {
            int dim = _outerDims[d];
            offset += row % dim * strides[d];
            row /= dim;
        }
        return offset;
    }

    public static int[] OutputShapeOf(params int[][] shapes)
    {
        int rank = 0;
        foreach (var s in shapes) rank = Math.Max(rank, s.Length);
        var output = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            int dim = 1;
            foreach (var s in shapes)
            {
                int id = d - (rank - s.Length);
                if (id < 0) continue;
                int v = s[id];
                if (v == dim || v == 1) continue;
                if (dim == 1) { dim = v; continue; }
                throw new ArgumentException($"shapes {string.Join(" and ", shapes.Select(x => Ir.Tensor.FormatShape(x)))} do not broadcast (dimension {d}: {dim} vs {v})");
            }
            output[d] = dim;
        }
        // A zero-size dim wins over 1 as in NumPy.
        for (int d = 0; d < rank; d++)
            foreach (var s in shapes)
            {
                int id = d - (rank - s.Length);
                if (id >= 0 && s[id] == 0) output[d] = 0;
            }
        return output;
    }
}
