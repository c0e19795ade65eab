using System.Runtime.InteropServices;

namespace EdgeAgent.Kernels;

/// <summary>
/// Quantized matrix multiply: C = epilogue(bias + (A - za) x (B - zb)), A u8/s8 M x K, B s8 K x N prepacked
/// (<see cref="PackedWeights"/>), int32 accumulation, and the epilogue of <see cref="QGemmOutput"/> fused
/// into each tile. Runs through the kernel path the weights were packed for.
/// </summary>
public static unsafe class QGemm
{
    // Below this many multiply-adds a dispatch costs more than it saves.
    private const long ParallelThreshold = 1 << 16;

    [ThreadStatic] private static QGemmParallelWork? t_work;

    /// <summary>
    /// Computes C for all M rows of <paramref name="a"/>. <paramref name="bias"/> is empty or N int32 values
    /// added to the accumulator; <paramref name="weightZeroPoints"/> is empty (symmetric weights), one value,
    /// or N values (ONNX models with asymmetric weights). With a <paramref name="pool"/> the output tiles are
    /// spread over its threads; the result is the same bits for any thread count.
    /// </summary>
    public static void Run(in QGemmInput a, PackedWeights b, in QGemmOutput c,
        ReadOnlySpan<int> bias = default, ReadOnlySpan<int> weightZeroPoints = default, WorkerPool? pool = null)
    {
        ArgumentNullException.ThrowIfNull(b);
        Validate(a, b, c, bias, weightZeroPoints);
        if (a.Rows == 0) return;
        var kernel = b.Table.QGemm;

        fixed (byte* pa = a.Data)
        fixed (byte* pb = b.Data)
        fixed (int* pSums = b.ColumnSums)
        fixed (int* pBias = bias)
        fixed (int* pZb = weightZeroPoints)
        fixed (float* pScales = c.Scales)
        fixed (byte* pc = c.Data)
        {
            var job = new QGemmJob
            {
                A = pa, Lda = a.Stride, M = a.Rows, K = b.K, ASigned = a.IsSigned, AZeroPoint = a.ZeroPoint,
                AZeroPointEffective = a.ZeroPoint + (a.IsSigned ? kernel.SignedOffset : kernel.UnsignedOffset),
                B = pb, PanelBytes = b.PanelBytes, N = b.N, ColumnSums = pSums, WeightsHaveMinus128 = b.HasMinus128,
                Bias = bias.IsEmpty ? null : pBias,
                WeightZeroPoints = AllZero(weightZeroPoints) ? null : pZb, WeightZeroPointCount = weightZeroPoints.Length,
                Scales = c.Scales.IsEmpty ? null : pScales, ScaleCount = c.Scales.Length,
                Kind = c.Kind, C = pc, Ldc = c.Stride, OutputZeroPoint = c.ZeroPoint, Min = c.Min, Max = c.Max,
            };
            job.ClampCannotBind = QGemmClampBound.CannotBind(&job);
            int panels = b.PanelCount;
            int rowTiles = (a.Rows + kernel.Mr - 1) / kernel.Mr;
            if (pool is null || pool.ThreadCount == 1 || rowTiles * panels == 1 || (long)a.Rows * b.N * b.K < ParallelThreshold)
            {
                kernel.Block(&job, 0, a.Rows, 0, panels);
                return;
            }
            var work = t_work ??= new QGemmParallelWork();
            int count = work.Partition(&job, kernel, rowTiles, panels, pool.ThreadCount);
            try
            {
                pool.Run(work, count);
            }
            finally
            {
                work.Job = null;
            }
        }
    }

    private static bool AllZero(ReadOnlySpan<int> values) => values.IndexOfAnyExcept(0) < 0;

    private static void Validate(in QGemmInput a, PackedWeights b, in QGemmOutput c, ReadOnlySpan<int> bias, ReadOnlySpan<int> zb)
    {
        int k = b.K, n = b.N;
        if (a.Rows < 0) ThrowHelper.Argument(nameof(a), $"A has a negative row count {a.Rows}");
        if (a.Rows == 0) return;
        if (a.Stride < k) ThrowHelper.Argument(nameof(a), $"A's row stride {a.Stride} is below K={k}");
        if (a.Data.Length < (long)(a.Rows - 1) * a.Stride + k)
            ThrowHelper.Argument(nameof(a), $"A holds {a.Data.Length} bytes; M={a.Rows} rows of K={k} with stride {a.Stride} need {(long)(a.Rows - 1) * a.Stride + k}");
        if (c.Stride < n) ThrowHelper.Argument(nameof(c), $"C's row stride {c.Stride} is below N={n}");
        if (c.Data.Length < ((long)(a.Rows - 1) * c.Stride + n) * c.ElementSize)
            ThrowHelper.Argument(nameof(c), $"C holds {c.Data.Length / c.ElementSize} {c.Kind} values; M={a.Rows} x N={n} with stride {c.Stride} needs {(long)(a.Rows - 1) * c.Stride + n}");
        if (!bias.IsEmpty && bias.Length != n) ThrowHelper.Argument(nameof(bias), $"bias has {bias.Length} values, expected N={n} (or none)");
        if (zb.Length is not (0 or 1) && zb.Length != n)
            ThrowHelper.Argument("weightZeroPoints", $"weight zero points: {zb.Length} values, expected 0, 1 or N={n}");
        if (c.Kind != QGemmOutputKind.Int32)
        {
            if (c.Scales.Length != 1 && c.Scales.Length != n)
                ThrowHelper.Argument(nameof(c), $"{c.Kind} output needs 1 or N={n} scales, got {c.Scales.Length}");
            foreach (float s in c.Scales)
                if (!float.IsFinite(s) || s <= 0) ThrowHelper.Argument(nameof(c), $"output scale {s} is not a positive finite number");
        }
    }
}

/// <summary>Splits one job's output into row-tile x panel blocks and runs them on the pool; reused per thread.</summary>
internal sealed unsafe class QGemmParallelWork : IParallelWork
{
    public QGemmJob* Job;
    private QGemmKernel _kernel = null!;
    private int _rowTiles, _panels, _rowChunks, _panelChunks;

    public int Partition(QGemmJob* job, QGemmKernel kernel, int rowTiles, int panels, int threads)
    {
        Job = job;
        _kernel = kernel;
        _rowTiles = rowTiles;
        _panels = panels;
        // A few blocks per thread even out the tail; panels first so each block reuses its weights.
        int target = threads * 3;
        _panelChunks = Math.Min(panels, target);
        _rowChunks = Math.Min(rowTiles, (target + _panelChunks - 1) / _panelChunks);
        return _panelChunks * _rowChunks;
    }

    public void Execute(int index)
    {
        int rc = index / _panelChunks, pc = index % _panelChunks;
        int mr = _kernel.Mr;
        int t0 = (int)((long)_rowTiles * rc / _rowChunks), t1 = (int)((long)_rowTiles * (rc + 1) / _rowChunks);
        int p0 = (int)((long)_panels * pc / _panelChunks), p1 = (int)((long)_panels * (pc + 1) / _panelChunks);
        int m0 = t0 * mr, m1 = Math.Min(Job->M, t1 * mr);
        if (m0 < m1 && p0 < p1) _kernel.Block(Job, m0, m1, p0, p1);
    }
}
