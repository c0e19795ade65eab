namespace EdgeAgent.Kernels;

/// <summary>
/// Walks a product panel by panel (16 columns of B) and, inside a panel, tile by tile down the rows, calling
/// the path's tile. Rows left over below the tile height (all of them when M is small, e.g. M = 1) run one row
/// at a time across a group of full panels, so a vector-times-matrix keeps several FMA chains in flight. The
/// last, narrower panel runs on a 16-wide scratch tile so the tiles never need masks. When B is not prepacked,
/// each panel is packed into <c>scratch</c> just before use (16 x K floats).
/// </summary>
internal static unsafe class SgemmDriver
{
    public const int MaxTileRows = 12;

    public static int TileRows(SimdPath path) => path switch
    {
        SimdPath.Neon when System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported => SgemmNeon.Rows,
        SimdPath.Avx2 when System.Runtime.Intrinsics.X86.X86Base.IsSupported => SgemmAvx2.Rows,
        SimdPath.Avx512 when System.Runtime.Intrinsics.X86.X86Base.IsSupported => SgemmAvx512.Rows,
        _ => 4,
    };

    /// <summary>Full panels one leftover row covers at once (0: the path runs leftover rows panel by panel).</summary>
    public static int PanelGroup(SimdPath path) => path switch
    {
        SimdPath.Neon when System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported => SgemmNeon.PanelGroup,
        SimdPath.Avx2 when System.Runtime.Intrinsics.X86.X86Base.IsSupported => SgemmAvx2.PanelGroup,
        SimdPath.Avx512 when System.Runtime.Intrinsics.X86.X86Base.IsSupported => SgemmAvx512.PanelGroup,
        _ => 0,
    };

    /// <summary>Where the panels of B come from.</summary>
    public enum BSource { Packed, RowMajor, Transposed }

    public static void Run(SimdPath path, int m, int n, int k, float* a, nint aRowStride, nint aKStride,
        BSource source, float* b, nint ldb, float* scratch, float* bias, float* c, nint ldc, bool accumulate, FloatActivation activation)
    {
        const int W = SgemmPacking.PanelWidth;
        int tileRows = TileRows(path), group = source == BSource.Packed ? PanelGroup(path) : 0;
        // Rows handled by full tiles; the rest go across panel groups when the path has them.
        int tiledRows = group == 0 ? m : m - m % tileRows;
        var t = new SgemmTileArgs
        {
            ARowStride = aRowStride,
            AKStride = aKStride,
            K = k,
            InitFromC = accumulate,
            Clamp = !activation.IsNone,
            Lo = activation.Min,
            Hi = activation.Max,
        };
        float* paddedBias = stackalloc float[W];
        int groupedColumns = 0;
        if (tiledRows < m)
        {
            groupedColumns = n / (group * W) * group * W;
            for (int j0 = 0; j0 < groupedColumns; j0 += group * W)
            {
                t.Panel = b + (nint)j0 * k;
                t.Bias = bias == null ? null : bias + j0;
                t.Rows = 1;
                for (int r = tiledRows; r < m; r++)
                {
                    t.A = a + r * aRowStride;
                    t.C = c + r * ldc + j0;
                    t.Ldc = ldc;
                    RowPanels(path, t, (nint)W * k);
                }
            }
        }
        for (int j0 = 0; j0 < n; j0 += W)
        {
            // Leftover rows of the grouped columns are done; all rows of the other columns remain.
            int rowEnd = j0 < groupedColumns ? tiledRows : m;
            if (rowEnd == 0) continue;
            int cols = Math.Min(W, n - j0);
            t.Panel = PanelOf(source, b, ldb, k, n, j0, cols, scratch);
            t.Bias = PanelBias(bias, j0, cols, paddedBias);
            RunPanel(path, ref t, a, aRowStride, c + j0, ldc, 0, rowEnd, tileRows, cols, accumulate);
        }
    }

    private static float* PanelOf(BSource source, float* b, nint ldb, int k, int n, int j0, int cols, float* scratch)
    {
        const int W = SgemmPacking.PanelWidth;
        if (source == BSource.Packed) return b + (nint)j0 * k;
        var panel = new Span<float>(scratch, W * k);
        if (source == BSource.RowMajor)
            SgemmPacking.PackPanel(new ReadOnlySpan<float>(b, checked((int)((k - 1) * ldb + n))), (int)ldb, k, j0, cols, panel);
        else
            SgemmPacking.PackTransposedPanel(new ReadOnlySpan<float>(b, checked((int)((n - 1) * ldb + k))), (int)ldb, k, j0, cols, panel);
        return scratch;
    }

    private static float* PanelBias(float* bias, int j0, int cols, float* padded)
    {
        if (bias == null) return null;
        if (cols == SgemmPacking.PanelWidth) return bias + j0;
        for (int j = 0; j < SgemmPacking.PanelWidth; j++) padded[j] = j < cols ? bias[j0 + j] : 0f;
        return padded;
    }

    private static void RunPanel(SimdPath path, ref SgemmTileArgs t, float* a, nint aRowStride, float* cPanel, nint ldc,
        int rowBegin, int rowEnd, int tileRows, int cols, bool accumulate)
    {
        const int W = SgemmPacking.PanelWidth;
        float* tailTile = stackalloc float[MaxTileRows * W];
        for (int i0 = rowBegin; i0 < rowEnd; i0 += tileRows)
        {
            int rows = Math.Min(tileRows, rowEnd - i0);
            t.A = a + i0 * aRowStride;
            t.Rows = rows;
            float* cTile = cPanel + i0 * ldc;
            if (cols == W)
            {
                t.C = cTile;
                t.Ldc = ldc;
                Tile(path, t);
                continue;
            }
            for (int r = 0; r < rows; r++)
            for (int j = 0; j < W; j++)
                tailTile[r * W + j] = accumulate && j < cols ? cTile[r * ldc + j] : 0f;
            t.C = tailTile;
            t.Ldc = W;
            Tile(path, t);
            for (int r = 0; r < rows; r++)
            for (int j = 0; j < cols; j++)
                cTile[r * ldc + j] = tailTile[r * W + j];
        }
    }

    private static void Tile(SimdPath path, in SgemmTileArgs t)
    {
        switch (path)
        {
            case SimdPath.Neon when System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported: SgemmNeon.Tile(t); break;
            case SimdPath.Avx2 when System.Runtime.Intrinsics.X86.X86Base.IsSupported: SgemmAvx2.Tile(t); break;
            case SimdPath.Avx512 when System.Runtime.Intrinsics.X86.X86Base.IsSupported: SgemmAvx512.Tile(t); break;
            default: SgemmScalar.Tile(t); break;
        }
    }

    private static void RowPanels(SimdPath path, in SgemmTileArgs t, nint panelStride)
    {
        switch (path)
        {
            case SimdPath.Neon when System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported: SgemmNeon.RowPanels(t, panelStride); break;
            case SimdPath.Avx2 when System.Runtime.Intrinsics.X86.X86Base.IsSupported: SgemmAvx2.RowPanels(t, panelStride); break;
            case SimdPath.Avx512 when System.Runtime.Intrinsics.X86.X86Base.IsSupported: SgemmAvx512.RowPanels(t, panelStride); break;
            default: throw new InvalidOperationException("the scalar path has no panel groups");
        }
    }
}
