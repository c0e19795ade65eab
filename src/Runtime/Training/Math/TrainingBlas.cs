using System.Buffers;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using EdgeAgent.Kernels;

namespace EdgeAgent.Runtime.Training;

/// <summary>
/// The single seam between the training engine and float matrix kernels; matrices are dense and row-major.
/// A·Bᵀ (the forward pass of Dense, weight gradients of Conv) runs on the shared SGEMM of src/Kernels
/// (<see cref="KernelTable.MatMul"/> on <see cref="KernelTable.Current"/>, so <c>EDGEAGENT_ISA</c> selects
/// the path training uses too): the kernel packs B's panels straight from its transpose, where the engine
/// would first copy out a transposed B. A·B and Aᵀ·B stay on the engine's register-blocked loop below, which
/// reads B in place: the kernel packs every panel of B on each call, and on the shapes training uses
/// (batch 32 × 576 → 128 heads, im2col convolutions) that copy made it 0.16–0.96× as fast, where A·Bᵀ ran
/// 1.13–2.6× faster (measured in bench/Continual/README.md).
/// </summary>
internal static class TrainingBlas
{
    /// <summary>Above this K the kernel's panel scratch (16·K floats) is rented instead of taken from the stack.</summary>
    private const int StackScratchMaxK = 512;

    /// <summary>C[m×n] = A[m×k]·B[k×n], or C += when <paramref name="accumulate"/>.</summary>
    public static void Gemm(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool accumulate)
    {
        CheckSizes(a.Length, m * k, b.Length, k * n, c.Length, m * n);
        RegisterBlocked(a, rowStride: k, colStride: 1, b, c, m, n, k, accumulate);
    }

    /// <summary>C[m×n] = Aᵀ·B with A stored [k×m] and B stored [k×n], or C += when accumulating.</summary>
    public static void GemmTransA(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool accumulate)
    {
        CheckSizes(a.Length, k * m, b.Length, k * n, c.Length, m * n);
        RegisterBlocked(a, rowStride: 1, colStride: m, b, c, m, n, k, accumulate);
    }

    /// <summary>C[m×n] = A·Bᵀ with A stored [m×k] and B stored [n×k], or C += when accumulating.</summary>
    public static void GemmTransB(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int n, int k, bool accumulate)
    {
        CheckSizes(a.Length, m * k, b.Length, n * k, c.Length, m * n);
        if (m == 0 || n == 0) return;
        if (k == 0)
        {
            // An empty sum: the kernel rejects K = 0, the product is simply zero.
            if (!accumulate) c[..(m * n)].Clear();
            return;
        }
        var kernels = KernelTable.Current;
        if (k <= StackScratchMaxK)
        {
            kernels.MatMul(false, true, m, n, k, a, k, b, k, c, n, accumulate);
            return;
        }
        int need = KernelTable.MatMulScratchLength(k);
        float[] scratch = ArrayPool<float>.Shared.Rent(need);
        try
        {
            kernels.MatMul(false, true, m, n, k, a, k, b, k, c, n, accumulate, scratch.AsSpan(0, need));
        }
        finally
        {
            ArrayPool<float>.Shared.Return(scratch);
        }
    }

    private static void CheckSizes(int aLen, int aNeed, int bLen, int bNeed, int cLen, int cNeed)
    {
        if (aLen < aNeed || bLen < bNeed || cLen < cNeed)
            ThrowSize(aLen, aNeed, bLen, bNeed, cLen, cNeed);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowSize(int aLen, int aNeed, int bLen, int bNeed, int cLen, int cNeed) =>
        throw new ArgumentException($"matrix buffers too small: A {aLen}/{aNeed}, B {bLen}/{bNeed}, C {cLen}/{cNeed} elements");

    /// <summary>
    /// 4 rows × 2 vectors of C stay in registers while k streams by; A's element (i, p) is at
    /// i·rowStride + p·colStride, so the same loop serves A and Aᵀ.
    /// </summary>
    private static void RegisterBlocked(ReadOnlySpan<float> aSpan, int rowStride, int colStride, ReadOnlySpan<float> bSpan,
        Span<float> cSpan, int m, int n, int k, bool accumulate)
    {
        if (!accumulate) cSpan[..(m * n)].Clear();
        if (m == 0 || n == 0 || k == 0) return;
        ref float a = ref MemoryMarshal.GetReference(aSpan);
        ref float b = ref MemoryMarshal.GetReference(bSpan);
        ref float c = ref MemoryMarshal.GetReference(cSpan);
        int w = Vector<float>.Count;
        int i = 0;
        for (; i + 4 <= m; i += 4)
        {
            int j = 0;
            for (; j + 2 * w <= n; j += 2 * w)
                Block4x2(ref a, rowStride, colStride, ref b, ref c, i, j, n, k, w);
            for (; j + w <= n; j += w)
                for (int r = 0; r < 4; r++) Row1x1(ref a, rowStride, colStride, ref b, ref c, i + r, j, n, k);
            for (; j < n; j++)
                for (int r = 0; r < 4; r++) ScalarCell(ref a, rowStride, colStride, ref b, ref c, i + r, j, n, k);
        }
        for (; i < m; i++)
        {
            int j = 0;
            for (; j + w <= n; j += w) Row1x1(ref a, rowStride, colStride, ref b, ref c, i, j, n, k);
            for (; j < n; j++) ScalarCell(ref a, rowStride, colStride, ref b, ref c, i, j, n, k);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x2(ref float a, int rs, int cs, ref float b, ref float c, int i, int j, int n, int k, int w)
    {
        nuint cw = (nuint)w;
        Vector<float> c00 = default, c01 = default, c10 = default, c11 = default;
        Vector<float> c20 = default, c21 = default, c30 = default, c31 = default;
        nint a0 = (nint)i * rs, a1 = a0 + rs, a2 = a1 + rs, a3 = a2 + rs;
        for (int p = 0; p < k; p++)
        {
            nuint bo = (nuint)((nint)p * n + j);
            var b0 = Vector.LoadUnsafe(ref b, bo);
            var b1 = Vector.LoadUnsafe(ref b, bo + cw);
            nint po = (nint)p * cs;
            var v0 = new Vector<float>(Unsafe.Add(ref a, a0 + po));
            var v1 = new Vector<float>(Unsafe.Add(ref a, a1 + po));
            var v2 = new Vector<float>(Unsafe.Add(ref a, a2 + po));
            var v3 = new Vector<float>(Unsafe.Add(ref a, a3 + po));
            c00 = Vector.FusedMultiplyAdd(v0, b0, c00); c01 = Vector.FusedMultiplyAdd(v0, b1, c01);
            c10 = Vector.FusedMultiplyAdd(v1, b0, c10); c11 = Vector.FusedMultiplyAdd(v1, b1, c11);
            c20 = Vector.FusedMultiplyAdd(v2, b0, c20); c21 = Vector.FusedMultiplyAdd(v2, b1, c21);
            c30 = Vector.FusedMultiplyAdd(v3, b0, c30); c31 = Vector.FusedMultiplyAdd(v3, b1, c31);
        }
        AddStore(ref c, (nuint)((nint)i * n + j), c00, c01, cw);
        AddStore(ref c, (nuint)((nint)(i + 1) * n + j), c10, c11, cw);
        AddStore(ref c, (nuint)((nint)(i + 2) * n + j), c20, c21, cw);
        AddStore(ref c, (nuint)((nint)(i + 3) * n + j), c30, c31, cw);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddStore(ref float c, nuint offset, Vector<float> lo, Vector<float> hi, nuint w)
    {
        (Vector.LoadUnsafe(ref c, offset) + lo).StoreUnsafe(ref c, offset);
        (Vector.LoadUnsafe(ref c, offset + w) + hi).StoreUnsafe(ref c, offset + w);
    }

    private static void Row1x1(ref float a, int rs, int cs, ref float b, ref float c, int i, int j, int n, int k)
    {
        Vector<float> acc = default;
        nint ao = (nint)i * rs;
        for (int p = 0; p < k; p++)
            acc = Vector.FusedMultiplyAdd(new Vector<float>(Unsafe.Add(ref a, ao + (nint)p * cs)), Vector.LoadUnsafe(ref b, (nuint)((nint)p * n + j)), acc);
        nuint co = (nuint)((nint)i * n + j);
        (Vector.LoadUnsafe(ref c, co) + acc).StoreUnsafe(ref c, co);
    }

    private static void ScalarCell(ref float a, int rs, int cs, ref float b, ref float c, int i, int j, int n, int k)
    {
        float acc = 0;
        nint ao = (nint)i * rs;
        for (int p = 0; p < k; p++)
            acc = MathF.FusedMultiplyAdd(Unsafe.Add(ref a, ao + (nint)p * cs), Unsafe.Add(ref b, (nint)p * n + j), acc);
        Unsafe.Add(ref c, (nint)i * n + j) += acc;
    }
}
