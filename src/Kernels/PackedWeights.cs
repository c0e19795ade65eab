using System.Runtime.InteropServices;

namespace EdgeAgent.Kernels;

/// <summary>
/// The weight matrix B (K x N, s8, symmetric per output column) packed once, at load, into the layout the
/// microkernels of one kernel path read: panels of NR columns, K padded with zeros to the path's k-block, and
/// inside a panel groups of KR consecutive k for each column (see src/Kernels/README.md). Also keeps
/// each column's sum, which the fast paths need to correct for zero points exactly.
/// </summary>
public sealed class PackedWeights
{
    internal readonly byte[] Data;
    internal readonly int[] ColumnSums;

    /// <summary>The kernel path this packing is for; it can only be run through that path.</summary>
    public KernelTable Table { get; }

    /// <summary>Depth (rows of B, columns of A).</summary>
    public int K { get; }

    /// <summary>Output columns.</summary>
    public int N { get; }

    /// <summary>K rounded up to the path's k-block (the zero padding is part of the packing).</summary>
    public int PaddedK { get; }

    /// <summary>True when some weight is -128, which rules out the NEON path's 16-bit pair sums.</summary>
    public bool HasMinus128 { get; }

    internal int PanelBytes { get; }
    internal int PanelCount => (N + Table.QGemm.Nr - 1) / Table.QGemm.Nr;

    private PackedWeights(KernelTable table, int k, int n, int paddedK, byte[] data, int[] sums, bool hasMinus128)
    {
        Table = table;
        K = k;
        N = n;
        PaddedK = paddedK;
        Data = data;
        ColumnSums = sums;
        HasMinus128 = hasMinus128;
        PanelBytes = paddedK * table.QGemm.Nr * table.QGemm.WeightBytes;
    }

    /// <summary>The packed bytes, in the layout of <see cref="Table"/>'s path (see src/Kernels/README.md).</summary>
    public ReadOnlySpan<byte> PackedData => Data;

    /// <summary>Bytes of packed data (for memory accounting).</summary>
    public int SizeInBytes => Data.Length + ColumnSums.Length * sizeof(int);

    /// <summary>
    /// Packs B given as K x N row-major (<paramref name="transposed"/> false: ONNX MatMul's B, element (k, n)
    /// at <c>b[k * stride + n]</c>) or as N x K (<paramref name="transposed"/> true: one row per output
    /// channel, element (k, n) at <c>b[n * stride + k]</c>, as convolution weights are stored).
    /// </summary>
    public static PackedWeights Pack(KernelTable table, ReadOnlySpan<sbyte> b, int k, int n, int stride, bool transposed = false)
    {
        ArgumentNullException.ThrowIfNull(table);
        if (k <= 0 || n <= 0) ThrowHelper.Argument(nameof(k), $"weights must be at least 1 x 1, got K={k}, N={n}");
        int minStride = transposed ? k : n;
        if (stride < minStride) ThrowHelper.Argument(nameof(stride), $"weight stride {stride} is below {(transposed ? "K" : "N")}={minStride}");
        long needed = (long)((transposed ? n : k) - 1) * stride + minStride;
        if (b.Length < needed) ThrowHelper.Argument(nameof(b), $"weights hold {b.Length} values, K={k} x N={n} with stride {stride} needs {needed}");

        var kernel = table.QGemm;
        int nr = kernel.Nr, kr = kernel.Kr;
        int paddedK = (k + kernel.KBlock - 1) / kernel.KBlock * kernel.KBlock;
        int panels = (n + nr - 1) / nr;
        long size = (long)panels * paddedK * nr * kernel.WeightBytes;
        if (size > Array.MaxLength) ThrowHelper.Argument(nameof(b), $"packed weights K={k} x N={n} exceed the largest array");
        var data = new byte[size];
        var sums = new int[n];
        bool hasMinus128 = false;
        var wide = MemoryMarshal.Cast<byte, short>(data.AsSpan());
        for (int col = 0; col < n; col++)
        {
            int panel = col / nr, j = col % nr, sum = 0;
            long panelBase = (long)panel * paddedK * nr;
            for (int kk = 0; kk < k; kk++)
            {
                sbyte w = transposed ? b[col * stride + kk] : b[kk * stride + col];
                sum += w;
                hasMinus128 |= w == -128;
                long at = panelBase + (long)(kk / kr) * nr * kr + j * kr + kk % kr;
                if (kernel.WeightBytes == 2) wide[(int)at] = w;
                else data[at] = (byte)w;
            }
            sums[col] = sum;
        }
        return new PackedWeights(table, k, n, paddedK, data, sums, hasMinus128);
    }
}
