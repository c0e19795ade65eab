namespace EdgeAgent.Kernels;

/// <summary>
/// Walks a product panel by panel (16 columns of B) and, inside a panel, tile by tile down the rows, calling
/// the path's tile. The last, narrower panel runs on a 16-wide scratch tile so the tiles never need masks.
/// When B is not prepacked, each panel is packed into <c>scratch</c> just before use (16 x K floats).
/// </summary>
internal static unsafe class SgemmDriver
{
    public const int MaxTileRows = 12;

    public static int TileRows(SimdPath path) => path switch
    {
        SimdPath.Neon => SgemmNeon.Rows,
        SimdPath.Avx2 => SgemmAvx2.Rows,
        SimdPath.Avx512 => SgemmAvx512.Rows,
        _ => 4,
    };

    /// <summary>Where the panels of B come from.</summary>
    public enum BSource { Packed, RowMajor, Transposed }

    public static void Run(SimdPath path, int m, int n, int k, float* a, nint aRowStride, nint aKStride,
        BSource source, float* b, nint ldb, float* scratch, float* bias, float* c, nint ldc, bool accumulate, FloatActivation activation)
    {
        const int W = SgemmPacking.PanelWidth;
        int tileRows = TileRows(path);
        float* tailTile = stackalloc float[MaxTileRows * W];
        float* tailBias = stackalloc float[W];
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
        for (int j0 = 0; j0 < n; j0 += W)
        {
            int cols = Math.Min(W, n - j0);
            float* panel;
            if (source == BSource.Packed)
            {
                panel = b + (nint)j0 * k;
            }
            else
            {
                panel = scratch;
                var panelSpan = new Span<float>(scratch, W * k);
                if (source == BSource.RowMajor)
                    SgemmPacking.PackPanel(new ReadOnlySpan<float>(b, checked((int)((k - 1) * ldb + n))), (int)ldb, k, j0, cols, panelSpan);
                else
                    SgemmPacking.PackTransposedPanel(new ReadOnlySpan<float>(b, checked((int)((n - 1) * ldb + k))), (int)ldb, k, j0, cols, panelSpan);
            }
            t.Panel = panel;
            if (bias == null) t.Bias = null;
            else if (cols == W) t.Bias = bias + j0;
            else
            {
                for (int j = 0; j < W; j++) tailBias[j] = j < cols ? bias[j0 + j] : 0f;
                t.Bias = tailBias;
            }
            for (int i0 = 0; i0 < m; i0 += tileRows)
            {
                int rows = Math.Min(tileRows, m - i0);
                t.A = a + i0 * aRowStride;
                t.Rows = rows;
                float* cTile = c + i0 * ldc + j0;
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
    }

    private static void Tile(SimdPath path, in SgemmTileArgs t)
    {
        switch (path)
        {
            case SimdPath.Neon: SgemmNeon.Tile(t); break;
            case SimdPath.Avx2: SgemmAvx2.Tile(t); break;
            case SimdPath.Avx512: SgemmAvx512.Tile(t); break;
            default: SgemmScalar.Tile(t); break;
        }
    }
}
