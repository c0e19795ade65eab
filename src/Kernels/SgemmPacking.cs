namespace EdgeAgent.Kernels;

/// <summary>
/// The packed right-hand matrix every SGEMM path reads: panels of <see cref="PanelWidth"/> columns, each
/// panel stored k-major (<c>packed[panel * 16 * K + k * 16 + j]</c>), the last panel zero-padded. The layout
/// is the same for every ISA, so a B packed once at model load serves whichever table runs.
/// To split the columns of a product over threads, give each piece whole panels:
/// <c>packed.Slice(PanelOffset(n0, k))</c>, <c>bias.Slice(n0)</c>, <c>c.Slice(n0)</c> with n0 a multiple of 16.
/// </summary>
public static class SgemmPacking
{
    /// <summary>Columns per panel.</summary>
    public const int PanelWidth = 16;

    /// <summary>Floats needed to pack a K x N matrix.</summary>
    public static int PackedLength(int k, int n) => checked((n + PanelWidth - 1) / PanelWidth * PanelWidth * k);

    /// <summary>Offset of the panel that starts at column <paramref name="column"/> (a multiple of 16).</summary>
    public static int PanelOffset(int column, int k)
    {
        if (column % PanelWidth != 0) throw new ArgumentException($"SGEMM column split at {column}: must be a multiple of {PanelWidth}");
        return checked(column * k);
    }

    /// <summary>Packs B, K x N row-major with row stride <paramref name="ldb"/> (ONNX Gemm with transB = 0, MatMul).</summary>
    public static void Pack(ReadOnlySpan<float> b, int ldb, int k, int n, Span<float> packed)
    {
        Check(k, n, ldb, n, b.Length, packed.Length, "B");
        for (int p = 0; p * PanelWidth < n; p++)
        {
            int j0 = p * PanelWidth, width = Math.Min(PanelWidth, n - j0);
            Span<float> panel = packed.Slice(p * PanelWidth * k, PanelWidth * k);
            for (int kk = 0; kk < k; kk++)
            {
                Span<float> row = panel.Slice(kk * PanelWidth, PanelWidth);
                b.Slice(kk * ldb + j0, width).CopyTo(row);
                row.Slice(width).Clear();
            }
        }
    }

    /// <summary>Packs B given as its transpose: <paramref name="bt"/> is N x K row-major with row stride <paramref name="ldbt"/> (ONNX Gemm with transB = 1).</summary>
    public static void PackTransposed(ReadOnlySpan<float> bt, int ldbt, int k, int n, Span<float> packed)
    {
        Check(k, n, ldbt, k, bt.Length, packed.Length, "B^T");
        for (int p = 0; p * PanelWidth < n; p++)
            PackTransposedPanel(bt, ldbt, k, p * PanelWidth, Math.Min(PanelWidth, n - p * PanelWidth), packed.Slice(p * PanelWidth * k, PanelWidth * k));
    }

    /// <summary>One panel of <see cref="PackTransposed"/>: columns [j0, j0 + width) of B from rows of B^T.</summary>
    internal static void PackTransposedPanel(ReadOnlySpan<float> bt, int ldbt, int k, int j0, int width, Span<float> panel)
    {
        if (width < PanelWidth) panel.Clear();
        for (int j = 0; j < width; j++)
        {
            ReadOnlySpan<float> src = bt.Slice((j0 + j) * ldbt, k);
            for (int kk = 0; kk < k; kk++) panel[kk * PanelWidth + j] = src[kk];
        }
    }

    /// <summary>One panel of <see cref="Pack"/>: columns [j0, j0 + width) of B.</summary>
    internal static void PackPanel(ReadOnlySpan<float> b, int ldb, int k, int j0, int width, Span<float> panel)
    {
        for (int kk = 0; kk < k; kk++)
        {
            Span<float> row = panel.Slice(kk * PanelWidth, PanelWidth);
            b.Slice(kk * ldb + j0, width).CopyTo(row);
            row.Slice(width).Clear();
        }
    }

    private static void Check(int k, int n, int ld, int minLd, int sourceLength, int packedLength, string name)
    {
        if (k <= 0 || n <= 0) throw new ArgumentException($"SGEMM packing: K and N must be positive, got K={k}, N={n}");
        if (ld < minLd) throw new ArgumentException($"SGEMM packing: leading dimension of {name} is {ld}, below {minLd}");
        long rows = name == "B" ? k : n;
        KernelArguments.CheckLength("SGEMM packing", name, sourceLength, (rows - 1) * ld + minLd);
        KernelArguments.CheckLength("SGEMM packing", "packed", packedLength, PackedLength(k, n));
    }
}
