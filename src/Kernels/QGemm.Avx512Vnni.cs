using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using EdgeAgent.Kernels.X64;

namespace EdgeAgent.Kernels;

/// <summary>
/// AVX-512 VNNI path: 6 rows x 64 columns, k in groups of 4 (c4, s8 weights as packed for AVX-VNNI but 64 columns
/// per panel). One 512-bit VPDPBUSD multiplies 4 u8 activations (broadcast) by 4 s8 weights for 16 columns and adds
/// the 4 products into int32 without saturation: 64 MACs per instruction, 24 per k-group. .NET 10 has no API for the
/// EVEX VPDPBUSD on a CPU without AVX10 (Zen 4, Ice Lake to Sapphire Rapids), so the tile is machine code generated at
/// run time (<see cref="QGemmVnniCode"/>) and called through an unmanaged function pointer without a GC transition:
/// it touches only pinned memory and the stack, and never calls back.
/// </summary>
/// <remarks>
/// The generated tile takes u8 rows whose length is a multiple of 4. s8 activations (flipped by xor 0x80, +128, which
/// the epilogue's <c>128 * colsum</c> term undoes exactly) and K not a multiple of 4 go through a copy of each chunk of
/// rows, padded with zeros to whole k-groups, made once per chunk and read by every panel; so the tile never reads past
/// the end of a row of A. Accumulators start from the column terms. A panel of whole 16-column quarters with symmetric
/// weights is finished by the generated tile itself (requantized, converted or stored straight to C,
/// <see cref="VnniTileOutput"/>); a part-quarter and asymmetric weights leave the int32 sums in a 6x64 block on the
/// stack for the 16-column sinks (<see cref="IQGemmTileSink"/>) or <see cref="QGemmEpilogue.Apply"/>.
/// A last panel narrower than 64 columns runs the variant for its quarters only.
/// </remarks>
internal static unsafe class QGemm6x64Avx512Vnni
{
    public const int Mr = QGemmVnniCode.Rows;
    public const int Nr = QGemmVnniCode.Columns;

    // Bytes of A rows (or of their padded copy) one pass over the panels works on: in L2 while every panel passes.
    private const int ARowsBudgetBytes = 128 * 1024;

    [ThreadStatic] private static byte[]? t_rows;

    /// <summary>
    /// The CPU has AVX-512 VNNI (CPUID.(EAX=7,ECX=0):ECX bit 11) and the OS keeps zmm state (AVX-512BW usable); the
    /// generated epilogue's 128-bit EVEX store also needs AVX-512VL (every CPU with AVX-512 VNNI so far has it).
    /// </summary>
    public static bool CpuHasVnni512 =>
        X86Base.IsSupported && Avx512BW.IsSupported && Avx512F.VL.IsSupported && (X86Base.CpuId(7, 0).Ecx & (1 << 11)) != 0;

    /// <summary>Whether the path runs here: the CPU has the instructions and the generated code could be made executable.</summary>
    public static bool IsSupported => CpuHasVnni512 && Generated.Code != null;

    /// <summary>Why the path does not run on a CPU that has the instructions (executable memory refused), else null.</summary>
    public static string? UnavailableReason => CpuHasVnni512 ? Generated.Error : null;

    /// <summary>The generated tiles, built on first use and kept for the process.</summary>
    private static class Generated
    {
        public static readonly byte* Code;
        public static readonly string? Error;
        public static readonly int[] Entries = [];

        static Generated()
        {
            if (!CpuHasVnni512) return;
            byte[] code = QGemmVnniCode.Emit(out Entries);
            Code = ExecutableMemory.TryCreate(code, out Error);
        }
    }

    /// <summary>
    /// The generated tile for <paramref name="rows"/> rows (1..6), <paramref name="quarters"/> 16-column quarters (1..4)
    /// and <paramref name="output"/> (the fifth argument: the int32 block or the <see cref="VnniRequantization"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static delegate* unmanaged[SuppressGCTransition]<byte*, nint, nint, byte*, void*, int*, void> TileFor(
        int rows, int quarters, VnniTileOutput output = VnniTileOutput.Int32Block) =>
        (delegate* unmanaged[SuppressGCTransition]<byte*, nint, nint, byte*, void*, int*, void>)(
            Generated.Code + Generated.Entries[QGemmVnniCode.EntryIndex(rows, quarters, output)]);

    public static void Block(QGemmJob* job, int m0, int m1, int p0, int p1) =>
        TileSinksAvx512.Block<Blocks, RawTileSink<TileStride16>>(job, m0, m1, p0, p1);

    /// <summary>This kernel's block for <see cref="TileSinksAvx512"/>.</summary>
    private struct Blocks : ISinkedBlock
    {
        public static void Block<TSink>(QGemmJob* job, int m0, int m1, int p0, int p1) where TSink : struct, IQGemmTileSink =>
            QGemm6x64Avx512Vnni.Block<TSink>(job, m0, m1, p0, p1);
    }

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TSink>(QGemmJob* job, int m0, int m1, int p0, int p1) where TSink : struct, IQGemmTileSink
    {
        int k = job->K, groups = (k + 3) >> 2, kp = groups * 4;
        int chunk = Math.Max(Mr, ARowsBudgetBytes / kp / Mr * Mr);
        bool direct = !job->ASigned && (k & 3) == 0;
        byte[]? rows = direct ? null : RowBuffer(Math.Min(chunk, m1 - m0) * kp);
        fixed (byte* copy = rows) Block<TSink>(job, m0, m1, p0, p1, copy, chunk);
    }

    [SkipLocalsInit, MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block<TSink>(QGemmJob* job, int m0, int m1, int p0, int p1, byte* copy, int chunk)
        where TSink : struct, IQGemmTileSink
    {
        int k = job->K, groups = (k + 3) >> 2, kp = groups * 4;
        int* acc = stackalloc int[Mr * Nr];
        int* colTerm = stackalloc int[Nr];
        int* start = stackalloc int[Nr];
        QGemmTileOutput* outs = stackalloc QGemmTileOutput[QGemmVnniCode.Quarters];
        byte** cq = stackalloc byte*[QGemmVnniCode.Quarters];
        bool fused = typeof(TSink) != typeof(RawTileSink<TileStride16>);
        // Whole 16-column quarters: the generated tile finishes them and stores to C itself.
        bool requantize = fused;
        var requantized = job->Kind switch
        {
            QGemmOutputKind.Int8 => VnniTileOutput.Int8,
            QGemmOutputKind.Int32 => VnniTileOutput.Int32,
            QGemmOutputKind.Float32 => VnniTileOutput.Float32,
            _ => VnniTileOutput.UInt8,
        };
        int elementBytes = job->Kind is QGemmOutputKind.Int32 or QGemmOutputKind.Float32 ? sizeof(int) : 1;
        VnniRequantization* req = stackalloc VnniRequantization[1];
        if (requantize) req->Prepare(job);
        for (int mc = m0; mc < m1; mc += chunk)
        {
            int mcEnd = Math.Min(m1, mc + chunk);
            byte* a;
            nint lda;
            if (copy == null)
            {
                a = job->A + mc * job->Lda;
                lda = job->Lda;
            }
            else
            {
                CopyRows(job, mc, mcEnd, copy, kp);
                a = copy;
                lda = kp;
            }
            for (int p = p0; p < p1; p++)
            {
                byte* b = job->B + p * job->PanelBytes;
                int n0 = p * Nr;
                int nc = Math.Min(Nr, job->N - n0);
                QGemmEpilogue.ColumnTerms(job, n0, nc, colTerm);
                if (requantize && (nc & 15) == 0)
                {
                    if (requantized != VnniTileOutput.Int32) req->SetScales(job, n0, nc);
                    byte* cp = job->C + n0 * elementBytes;
                    var fullRows = TileFor(Mr, nc >> 4, requantized);
                    for (int m = mc; m < mcEnd; m += Mr)
                    {
                        int r = Math.Min(Mr, mcEnd - m);
                        req->C = cp + m * req->Ldc;
                        (r == Mr ? fullRows : TileFor(r, nc >> 4, requantized))(a + (m - mc) * lda, lda, groups, b, req, colTerm);
                    }
                    continue;
                }
                // Quarters the tile computes; of those, the full ones requantize through the register sinks from
                // accumulators started at the column terms, a last partial one leaves raw sums to QGemmEpilogue.Apply.
                int quarters = (nc + 15) >> 4, sunk = fused ? nc >> 4 : 0;
                int* tileStart = colTerm;
                if (sunk < quarters)
                {
                    for (int j = 0; j < 16 * quarters; j++) start[j] = j < 16 * sunk ? colTerm[j] : 0;
                    tileStart = start;
                }
                for (int q = 0; q < sunk; q++)
                {
                    outs[q].Prepare(job, colTerm + 16 * q, n0 + 16 * q);
                    cq[q] = job->C + QGemmTileOutput.ColumnOffset(job, n0 + 16 * q);
                }
                nint ldc = sunk > 0 ? outs[0].LdcBytes : 0;
                var full = TileFor(Mr, quarters);
                for (int m = mc; m < mcEnd; m += Mr)
                {
                    int r = Math.Min(Mr, mcEnd - m);
                    var tile = r == Mr ? full : TileFor(r, quarters);
                    tile(a + (m - mc) * lda, lda, groups, b, acc, tileStart);
                    for (int q = 0; q < sunk; q++)
                    {
                        outs[q].C = cq[q] + m * ldc;
                        Finish<TSink>(outs + q, acc + 16 * q, r);
                    }
                    if (sunk < quarters)
                        QGemmEpilogue.Apply(job, acc + 16 * sunk, Nr, colTerm + 16 * sunk, m, r, n0 + 16 * sunk, nc - 16 * sunk);
                }
            }
        }
    }

    /// <summary>16 columns of <paramref name="rows"/> stored accumulator rows (64 apart) through the sink.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TSink>(QGemmTileOutput* o, int* acc, int rows) where TSink : struct, IQGemmTileSink
    {
        if (rows >= 4)
        {
            TSink.Rows4(o, 0, Lo(acc, 0), Hi(acc, 0), Lo(acc, 1), Hi(acc, 1), Lo(acc, 2), Hi(acc, 2), Lo(acc, 3), Hi(acc, 3));
            if (rows == 6) TSink.Rows2(o, 4, Lo(acc, 4), Hi(acc, 4), Lo(acc, 5), Hi(acc, 5));
            else if (rows == 5) TSink.Row(o, 4, Lo(acc, 4), Hi(acc, 4));
            return;
        }
        if (rows >= 2)
        {
            TSink.Rows2(o, 0, Lo(acc, 0), Hi(acc, 0), Lo(acc, 1), Hi(acc, 1));
            if (rows == 3) TSink.Row(o, 2, Lo(acc, 2), Hi(acc, 2));
            return;
        }
        TSink.Row(o, 0, Lo(acc, 0), Hi(acc, 0));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Lo(int* acc, int row) => Vector256.Load(acc + row * Nr);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Hi(int* acc, int row) => Vector256.Load(acc + row * Nr + 8);

    /// <summary>Rows [m0, m1) of A as u8 (s8 flipped by xor 0x80), <paramref name="kp"/> apart, zero-padded past K.</summary>
    private static void CopyRows(QGemmJob* job, int m0, int m1, byte* dst, int kp)
    {
        int k = job->K;
        var flip = Vector512.Create(job->ASigned ? (byte)0x80 : (byte)0);
        byte flipByte = job->ASigned ? (byte)0x80 : (byte)0;
        for (int m = m0; m < m1; m++, dst += kp)
        {
            byte* src = job->A + m * job->Lda;
            int j = 0;
            for (; j + 64 <= k; j += 64) (Vector512.Load(src + j) ^ flip).Store(dst + j);
            for (; j < k; j++) dst[j] = (byte)(src[j] ^ flipByte);
            for (; j < kp; j++) dst[j] = 0;
        }
    }

    /// <summary>This thread's buffer for padded rows, grown to at least <paramref name="bytes"/> (kept for later calls).</summary>
    private static byte[] RowBuffer(int bytes)
    {
        var buffer = t_rows;
        if (buffer is null || buffer.Length < bytes)
            t_rows = buffer = GC.AllocateUninitializedArray<byte>(Math.Max(bytes, 4096), pinned: true);
        return buffer;
    }
}
