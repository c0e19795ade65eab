using System.Numerics.Tensors;

namespace EdgeAgent.Runtime.Ops;

/// <summary>
/// Row-major single-precision matrix multiply used by MatMul, Gemm and Conv (im2col): C = A·B (+ C).
/// The loop order (i, k, j) streams rows of B and C so the inner axpy vectorises.
/// </summary>
internal static class FloatGemm
{
    /// <summary>C[M,N] (+)= A[M,K] · B[K,N]; lda/ldb/ldc are row strides.</summary>
    public static void Multiply(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb,
        Span<float> c, int ldc, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            var row = c.Slice(i * ldc, n);
            if (!accumulate) row.Clear();
            var ai = a.Slice(i * lda, k);
            for (int p = 0; p < k; p++)
            {
                float v = ai[p];
                if (v == 0) continue;
                TensorPrimitives.MultiplyAdd(b.Slice(p * ldb, n), v, row, row);
            }
        }
    }

    /// <summary>C[M,N] (+)= A[M,K] · Bᵀ where Bt is [N,K] row-major (dot products).</summary>
    public static void MultiplyTransposedB(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> bt, int ldbt,
        Span<float> c, int ldc, bool accumulate)
    {
        for (int i = 0; i < m; i++)
        {
            var ai = a.Slice(i * lda, k);
            var row = c.Slice(i * ldc, n);
            for (int j = 0; j < n; j++)
            {
                float dot = TensorPrimitives.Dot(ai, bt.Slice(j * ldbt, k));
                row[j] = accumulate ? row[j] + dot : dot;
            }
        }
    }

    /// <summary>Transposes a row-major [rows, cols] matrix into dst [cols, rows].</summary>
    public static void Transpose(ReadOnlySpan<float> src, int rows, int cols, Span<float> dst)
    {
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                dst[c * rows + r] = src[r * cols + c];
    }
}
