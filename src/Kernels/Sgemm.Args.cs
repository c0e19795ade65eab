namespace EdgeAgent.Kernels;

/// <summary>
/// One SGEMM tile: <see cref="Rows"/> rows of A (element (r, k) at <c>A[r * ARowStride + k * AKStride]</c>,
/// which covers A and A^T) times one packed 16-column panel of B, into a 16-wide block of C.
/// </summary>
internal unsafe struct SgemmTileArgs
{
    public float* A;
    public nint ARowStride;
    public nint AKStride;
    public float* Panel;
    public int K;
    public float* C;
    public nint Ldc;
    public int Rows;
    /// <summary>16 bias values for the panel, or null for none.</summary>
    public float* Bias;
    /// <summary>Start each chain from the current C (accumulate) instead of the bias.</summary>
    public bool InitFromC;
    public bool Clamp;
    public float Lo;
    public float Hi;
}
