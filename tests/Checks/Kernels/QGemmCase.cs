using EdgeAgent.Kernels;

namespace EdgeAgent.Checks.Kernels;

/// <summary>
/// One randomised QGEMM problem: shape, strides, zero points, epilogue. Runs a kernel path and the reference
/// on the same inputs and demands the same bytes, padding of the strided output included.
/// </summary>
public sealed record QGemmCase(
    int M, int N, int K,
    bool SignedA, int AZeroPoint,
    QGemmOutputKind Kind, int OutZeroPoint, int Min, int Max,
    bool PerColumnScale, float ScaleBase,
    bool Bias, int WeightZeroPoints /* 0 none, 1 per tensor, 2 per column */,
    bool WeightsAvoidMinus128, int ExtraLda, int ExtraLdc, int Seed)
{
    public override string ToString() =>
        $"M={M} N={N} K={K} A={(SignedA ? "s8" : "u8")}/zp{AZeroPoint} out={Kind}/zp{OutZeroPoint}[{Min},{Max}] " +
        $"scale={ScaleBase}{(PerColumnScale ? "/col" : "")} bias={Bias} zb={WeightZeroPoints} no-128={WeightsAvoidMinus128} " +
        $"lda+{ExtraLda} ldc+{ExtraLdc} seed={Seed}";

    public void Verify(KernelTable table, WorkerPool? pool)
    {
        var rng = new Random(Seed);
        int lda = K + ExtraLda, ldc = N + ExtraLdc;
        var a = new byte[(M - 1) * lda + K + ExtraLda];
        rng.NextBytes(a);
        var b = new sbyte[K * N];
        for (int i = 0; i < b.Length; i++) b[i] = (sbyte)(WeightsAvoidMinus128 ? rng.Next(-127, 128) : rng.Next(-128, 128));
        if (!WeightsAvoidMinus128) b[rng.Next(b.Length)] = -128;
        // Extreme values make saturation and 16-bit overflow reachable: whole rows at the ends of the range.
        if (rng.Next(3) == 0) Array.Fill(a, SignedA ? (byte)0x80 : (byte)0xFF, 0, Math.Min(a.Length, K));
        int[] bias = Bias ? Enumerable.Range(0, N).Select(_ => rng.Next(-1 << 20, 1 << 20)).ToArray() : [];
        int[] zb = WeightZeroPoints switch
        {
            0 => [],
            1 => [rng.Next(-128, 128)],
            _ => Enumerable.Range(0, N).Select(_ => rng.Next(-128, 128)).ToArray(),
        };
        float[] scales = Kind == QGemmOutputKind.Int32 ? []
            : Enumerable.Range(0, PerColumnScale ? N : 1).Select(_ => ScaleBase * (float)(0.5 + rng.NextDouble())).ToArray();

        int elem = Kind is QGemmOutputKind.UInt8 or QGemmOutputKind.Int8 ? 1 : 4;
        var expected = new byte[((M - 1) * ldc + N + ExtraLdc) * elem];
        rng.NextBytes(expected);
        var actual = (byte[])expected.Clone();

        var input = SignedA
            ? QGemmInput.Int8(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(a), M, lda, AZeroPoint)
            : QGemmInput.UInt8(a, M, lda, AZeroPoint);
        QGemmReference.Run(input, b, K, N, Output(expected, ldc, scales), bias, zb);

        var packed = PackedWeights.Pack(table, b, K, N, N);
        QGemm.Run(input, packed, Output(actual, ldc, scales), bias, zb, pool);
        Compare(expected, actual, elem, ldc, $"{table.QGemmKernelName} threads={pool?.ThreadCount ?? 1} {this}");

        // The same weights given transposed (N x K, as convolutions store them) pack to the same bytes.
        var bt = new sbyte[N * K];
        for (int kk = 0; kk < K; kk++) for (int n = 0; n < N; n++) bt[n * K + kk] = b[kk * N + n];
        var packedT = PackedWeights.Pack(table, bt, K, N, K, transposed: true);
        Expect.True(packed.PackedData.SequenceEqual(packedT.PackedData), $"{table.QGemmKernelName}: transposed packing differs ({this})");
    }

    private QGemmOutput Output(byte[] buffer, int ldc, float[] scales) => Kind switch
    {
        QGemmOutputKind.UInt8 => QGemmOutput.UInt8(buffer, ldc, scales, OutZeroPoint, Min, Max),
        QGemmOutputKind.Int8 => QGemmOutput.Int8(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(buffer.AsSpan()), ldc, scales, OutZeroPoint, Min, Max),
        QGemmOutputKind.Int32 => QGemmOutput.Int32(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(buffer.AsSpan()), ldc),
        _ => QGemmOutput.Float32(System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(buffer.AsSpan()), ldc, scales),
    };

    internal static void Compare(byte[] expected, byte[] actual, int elem, int ldc, string what)
    {
        for (int i = 0; i < expected.Length; i++)
        {
            if (expected[i] != actual[i])
            {
                int e = i / elem;
                throw new CheckFailedException($"{what}: first difference at row {e / ldc}, column {e % ldc} (byte {i}): expected {Show(expected, i, elem)}, got {Show(actual, i, elem)}");
            }
        }
    }

    private static string Show(byte[] data, int i, int elem) => elem == 1 ? data[i].ToString() : BitConverter.ToInt32(data, i / 4 * 4).ToString();
}
