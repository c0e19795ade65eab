namespace EdgeAgent.Compression.Factorization;

/// <summary>
/// Singular value decomposition by one-sided Jacobi rotations (Hestenes): orthogonalises the columns
/// of A in place, in double precision. Accurate for the layer sizes of edge models; no allocation
/// beyond the copies it returns.
/// </summary>
public static class JacobiSvd
{
    /// <summary>A (rows × cols, row-major) = U · diag(S) · Vᵀ with S descending; U is rows × k, V is cols × k, k = min(rows, cols).</summary>
    public static (double[] U, double[] S, double[] V) Decompose(ReadOnlySpan<float> a, int rows, int cols)
    {
        if (a.Length != rows * cols) throw new ArgumentException($"{a.Length} values for a {rows}×{cols} matrix");
        if (rows < cols)
        {
            // Work on Aᵀ so that the rotated columns are the short side.
            var t = new float[a.Length];
            for (int r = 0; r < rows; r++) for (int c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
            var (u, s, v) = Decompose(t, cols, rows);
            return (v, s, u);
        }
        int m = rows, n = cols;
        var w = new double[m * n]; // column-major copy: column j at [j*m, (j+1)*m)
        for (int r = 0; r < m; r++) for (int c = 0; c < n; c++) w[c * m + r] = a[r * n + c];
        var vmat = new double[n * n];
        for (int i = 0; i < n; i++) vmat[i * n + i] = 1;
        for (int sweep = 0; sweep < 60; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n - 1; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    double alpha = 0, beta = 0, gamma = 0;
                    for (int i = 0; i < m; i++)
                    {
                        double x = w[p * m + i], y = w[q * m + i];
                        alpha += x * x; beta += y * y; gamma += x * y;
                    }
                    if (gamma == 0 || Math.Abs(gamma) <= 1e-15 * Math.Sqrt(alpha * beta)) continue;
                    off = Math.Max(off, Math.Abs(gamma) / Math.Sqrt(alpha * beta));
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.Sign(zeta == 0 ? 1 : zeta) / (Math.Abs(zeta) + Math.Sqrt(1 + zeta * zeta));
                    double c = 1 / Math.Sqrt(1 + t * t), s = c * t;
                    for (int i = 0; i < m; i++)
                    {
                        double x = w[p * m + i], y = w[q * m + i];
                        w[p * m + i] = c * x - s * y;
                        w[q * m + i] = s * x + c * y;
                    }
                    for (int i = 0; i < n; i++)
                    {
                        double x = vmat[p * n + i], y = vmat[q * n + i];
                        vmat[p * n + i] = c * x - s * y;
                        vmat[q * n + i] = s * x + c * y;
                    }
                }
            }
            if (off < 1e-12) break;
        }
        var sigma = new double[n];
        for (int j = 0; j < n; j++)
        {
            double norm = 0;
            for (int i = 0; i < m; i++) norm += w[j * m + i] * w[j * m + i];
            sigma[j] = Math.Sqrt(norm);
        }
        var order = Enumerable.Range(0, n).OrderByDescending(j => sigma[j]).ToArray();
        var U = new double[m * n];
        var V = new double[n * n];
        var S = new double[n];
        for (int k = 0; k < n; k++)
        {
            int j = order[k];
            S[k] = sigma[j];
            for (int i = 0; i < m; i++) U[i * n + k] = sigma[j] > 0 ? w[j * m + i] / sigma[j] : 0;
            for (int i = 0; i < n; i++) V[i * n + k] = vmat[j * n + i];
        }
        return (U, S, V);
    }
}
