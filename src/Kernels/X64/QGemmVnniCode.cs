namespace EdgeAgent.Kernels.X64;

/// <summary>
/// Machine code of the 6x64 int8 GEMM tile with 512-bit VPDPBUSD (<see cref="QGemm6x64Avx512Vnni"/>), one function per
/// row count 1..6 and per number of 16-column quarters 1..4 (a last panel of 16, 32 or 48 columns does only those
/// columns' multiply-adds), System V calling convention:
/// <c>void tile(byte* a, nint lda, nint kGroups, byte* b, int* acc, int* start)</c>.
/// a: the first of the rows (u8, K a multiple of 4, rows lda bytes apart); b: one packed panel (k-groups of 4 bytes
/// per column, 64 columns, 256 bytes per k-group); kGroups &gt;= 1; start: 64 int32 every row's accumulators start
/// from; acc: the rows' int32 results, 64 apart (only the computed quarters are written).
/// </summary>
/// <remarks>
/// Registers: accumulators zmm0..23 (row r, columns 16q..16q+15 in zmm 4r+q), the k-group's weights zmm24..27, the
/// rows' broadcast activations zmm28..31 (four names, so consecutive rows do not wait on one register). Per k-group:
/// four weight loads, one VPBROADCASTD per row, four VPDPBUSD per row: 24 VPDPBUSD x 64 MAC for a full tile.
/// Row pointers: rdi (rows 0..2 as rdi, rdi + lda, rdi + 2 lda) and r10 = rdi + 3 lda (rows 3..5); only
/// caller-saved registers are touched, so nothing is pushed.
/// </remarks>
internal static class QGemmVnniCode
{
    public const int Rows = 6;
    public const int Columns = 64;
    public const int PanelGroupBytes = Columns * 4;

    public const int Quarters = Columns / 16;

    /// <summary>
    /// Every variant in one block; <paramref name="entries"/>[<see cref="EntryIndex"/>(rows, quarters)] is where the
    /// one for <c>rows</c> rows and <c>quarters</c> 16-column quarters starts.
    /// </summary>
    public static byte[] Emit(out int[] entries)
    {
        var asm = new X64Assembler();
        var labels = new List<Label>();
        entries = new int[Rows * Quarters];
        for (int rows = 1; rows <= Rows; rows++)
        {
            for (int quarters = 1; quarters <= Quarters; quarters++)
            {
                // Each variant on a 64-byte boundary, so its loop does not straddle more fetch blocks than it needs.
                while (asm.Length % 64 != 0) asm.Int3();
                entries[EntryIndex(rows, quarters)] = asm.Length;
                EmitTile(asm, rows, quarters, labels);
            }
        }
        return asm.ToArray(labels);
    }

    public static int EntryIndex(int rows, int quarters) => (rows - 1) * Quarters + quarters - 1;

    private static void EmitTile(X64Assembler asm, int rows, int quarters, List<Label> labels)
    {
        Gpr a = Gpr.Rdi, lda = Gpr.Rsi, groups = Gpr.Rdx, b = Gpr.Rcx, acc = Gpr.R8, start = Gpr.R9, a3 = Gpr.R10;
        if (rows > 3)
        {
            asm.Lea(a3, Mem.At(lda, lda, 2));
            asm.Add(a3, a);
        }
        for (int r = 0; r < rows; r++)
            for (int q = 0; q < quarters; q++)
                asm.Vmovdqu32(Acc(r, q), Mem.At(start, 64 * q));
        var loop = new Label();
        var done = new Label();
        labels.Add(loop);
        labels.Add(done);
        asm.Test(groups, groups);
        asm.Jz(done);
        asm.Bind(loop);
        for (int q = 0; q < quarters; q++) asm.Vmovdqu32(new Zmm(24 + q), Mem.At(b, 64 * q));
        for (int r = 0; r < rows; r++)
        {
            var x = new Zmm(28 + (r & 3));
            asm.Vpbroadcastd(x, RowAt(r, a, a3, lda));
            for (int q = 0; q < quarters; q++) asm.Vpdpbusd(Acc(r, q), x, new Zmm(24 + q));
        }
        asm.Add(a, 4);
        if (rows > 3) asm.Add(a3, 4);
        asm.Add(b, PanelGroupBytes);
        asm.Dec(groups);
        asm.Jnz(loop);
        asm.Bind(done);
        for (int r = 0; r < rows; r++)
            for (int q = 0; q < quarters; q++)
                asm.Vmovdqu32(Mem.At(acc, r * Columns * 4 + 64 * q), Acc(r, q));
        asm.Vzeroupper();
        asm.Ret();
    }

    private static Zmm Acc(int row, int quarter) => new(4 * row + quarter);

    private static Mem RowAt(int r, Gpr a, Gpr a3, Gpr lda) => r switch
    {
        0 => Mem.At(a),
        1 => Mem.At(a, lda, 1),
        2 => Mem.At(a, lda, 2),
        3 => Mem.At(a3),
        4 => Mem.At(a3, lda, 1),
        _ => Mem.At(a3, lda, 2),
    };
}
