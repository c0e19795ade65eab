namespace EdgeAgent.Kernels.X64;

/// <summary>What a generated tile does with its accumulators.</summary>
internal enum VnniTileOutput
{
    /// <summary>Stores the int32 sums to <c>acc</c> (rows 64 apart), for the C# sinks or the general epilogue.</summary>
    Int32Block,
    /// <summary>Requantizes to u8 and stores to C (<see cref="VnniRequantization"/>).</summary>
    UInt8,
    /// <summary>Requantizes to s8 and stores to C.</summary>
    Int8,
    /// <summary>Stores the int32 sums (started from the column terms: the finished MatMulInteger values) straight to C.</summary>
    Int32,
    /// <summary>Stores <c>(float)sum * scale[n]</c> to C (VCVTDQ2PS, VMULPS: the operations of <see cref="Float32TileSink"/>).</summary>
    Float32,
}

/// <summary>
/// Machine code of the 6x64 int8 GEMM tile with 512-bit VPDPBUSD (<see cref="QGemm6x64Avx512Vnni"/>), one function per
/// row count 1..6, number of 16-column quarters 1..4 (a last panel of 16, 32 or 48 columns does only those columns'
/// multiply-adds) and <see cref="VnniTileOutput"/>, System V calling convention:
/// <c>void tile(byte* a, nint lda, nint kGroups, byte* b, void* output, int* start)</c>.
/// a: the first of the rows (u8, K a multiple of 4, rows lda bytes apart); b: one packed panel (k-groups of 4 bytes
/// per column, 64 columns, 256 bytes per k-group); kGroups &gt;= 0; start: 64 int32 every row's accumulators start
/// from; output: for <see cref="VnniTileOutput.Int32Block"/> the int32 block (rows 64 apart, only the computed
/// quarters written), else a <see cref="VnniRequantization"/> (for <see cref="VnniTileOutput.Int32"/> only its C and
/// ldc, for <see cref="VnniTileOutput.Float32"/> those and the scales).
/// </summary>
/// <remarks>
/// Registers: accumulators zmm0..23 (row r, columns 16q..16q+15 in zmm 4r+q), the k-group's weights zmm24..27, the
/// rows' broadcast activations zmm28..31 (four names, so consecutive rows do not wait on one register). Per k-group:
/// four weight loads, one VPBROADCASTD per row, four VPDPBUSD per row: 24 VPDPBUSD x 64 MAC for a full tile.
/// Row pointers: rdi (rows 0..2 as rdi, rdi + lda, rdi + 2 lda) and r10 = rdi + 3 lda (rows 3..5); only
/// caller-saved registers are touched, so nothing is pushed.
/// The requantizing outputs run, per row and quarter, the operations of <see cref="QuantizedTileSinkAvx512{TSigned, TUnclamped}"/>
/// in the same order (VCVTDQ2PS, VMULPS, VMINPS, VCVTPS2DQ; VPACKSSDW, VPADDSW, VPACKUSWB/VPACKSSWB, VPMAXUB/VPMAXSB,
/// VPERMD), so the same bits; the clamp and the zero point are always applied (with a clamp that cannot bind and a
/// zero point of 0 they change nothing, see <see cref="VnniRequantization"/>).
/// </remarks>
internal static class QGemmVnniCode
{
    public const int Rows = 6;
    public const int Columns = 64;
    public const int Quarters = Columns / 16;
    public const int PanelGroupBytes = Columns * 4;

    private static readonly VnniTileOutput[] Outputs = Enum.GetValues<VnniTileOutput>();

    /// <summary>
    /// Every variant in one block; <paramref name="entries"/>[<see cref="EntryIndex"/>(rows, quarters, output)] is where
    /// that variant starts.
    /// </summary>
    public static byte[] Emit(out int[] entries)
    {
        var asm = new X64Assembler();
        var labels = new List<Label>();
        entries = new int[Rows * Quarters * Outputs.Length];
        foreach (var output in Outputs)
        {
            for (int rows = 1; rows <= Rows; rows++)
            {
                for (int quarters = 1; quarters <= Quarters; quarters++)
                {
                    // Each variant on a 64-byte boundary, so its loop does not straddle more fetch blocks than it needs.
                    while (asm.Length % 64 != 0) asm.Int3();
                    entries[EntryIndex(rows, quarters, output)] = asm.Length;
                    EmitTile(asm, rows, quarters, output, labels);
                }
            }
        }
        return asm.ToArray(labels);
    }

    public static int EntryIndex(int rows, int quarters, VnniTileOutput output) =>
        ((int)output * Rows + rows - 1) * Quarters + quarters - 1;

    private static void EmitTile(X64Assembler asm, int rows, int quarters, VnniTileOutput output, List<Label> labels)
    {
        Gpr a = Gpr.Rdi, lda = Gpr.Rsi, groups = Gpr.Rdx, b = Gpr.Rcx, outp = Gpr.R8, start = Gpr.R9, a3 = Gpr.R10;
        FourthRow(asm, rows, a, lda, a3);
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
            asm.Vpbroadcastd(x, RowAt(r, a, a3, lda, 0));
            for (int q = 0; q < quarters; q++) asm.Vpdpbusd(Acc(r, q), x, new Zmm(24 + q));
        }
        asm.Add(a, 4);
        if (rows > 3) asm.Add(a3, 4);
        asm.Add(b, PanelGroupBytes);
        asm.Dec(groups);
        asm.Jnz(loop);
        asm.Bind(done);
        if (output == VnniTileOutput.Int32Block)
        {
            for (int r = 0; r < rows; r++)
                for (int q = 0; q < quarters; q++)
                    asm.Vmovdqu32(Mem.At(outp, r * Columns * 4 + 64 * q), Acc(r, q));
        }
        else if (output is VnniTileOutput.Int32 or VnniTileOutput.Float32)
        {
            var (c, c3, ldc) = OutputRows(asm, rows, outp);
            for (int r = 0; r < rows; r++)
            {
                for (int q = 0; q < quarters; q++)
                {
                    if (output == VnniTileOutput.Float32)
                    {
                        asm.Vcvtdq2ps(Acc(r, q), Acc(r, q));
                        asm.Vmulps(Acc(r, q), Acc(r, q), Mem.At(outp, VnniRequantization.ScaleOffset + 64 * q));
                    }
                    asm.Vmovdqu32(RowAt(r, c, c3, ldc, 64 * q), Acc(r, q));
                }
            }
        }
        else
        {
            EmitRequantization(asm, rows, quarters, signed: output == VnniTileOutput.Int8);
        }
        asm.Vzeroupper();
        asm.Ret();
    }

    /// <summary>The accumulators to bytes in C; r8 holds the <see cref="VnniRequantization"/>.</summary>
    private static void EmitRequantization(X64Assembler asm, int rows, int quarters, bool signed)
    {
        Gpr p = Gpr.R8;
        Zmm hi = new(28), zeroPoint = new(29), minBytes = new(30), order = new(31), t0 = new(24), t1 = new(25);
        asm.Vmovdqu32(hi, Mem.At(p, VnniRequantization.HiOffset));
        asm.Vmovdqu32(zeroPoint, Mem.At(p, VnniRequantization.ZeroPointOffset));
        asm.Vmovdqu32(minBytes, Mem.At(p, VnniRequantization.MinBytesOffset));
        asm.Vmovdqu32(order, Mem.At(p, VnniRequantization.OrderOffset));
        var (c, c3, ldc) = OutputRows(asm, rows, p);
        for (int q = 0; q < quarters; q++)
        {
            for (int r = 0; r < rows; r++)
            {
                var v = Acc(r, q);
                asm.Vcvtdq2ps(v, v);
                asm.Vmulps(v, v, Mem.At(p, VnniRequantization.ScaleOffset + 64 * q));
                asm.Vminps(v, v, hi);
                asm.Vcvtps2dq(v, v);
            }
            // Rows leave as the C# sink groups them: four, then a pair or one (1-3 rows: a pair, then one).
            int row = 0;
            if (rows >= 4)
            {
                asm.Vpackssdw(t0, Acc(0, q), Acc(1, q));
                asm.Vpackssdw(t1, Acc(2, q), Acc(3, q));
                asm.Vpaddsw(t0, t0, zeroPoint);
                asm.Vpaddsw(t1, t1, zeroPoint);
                Bytes(asm, t0, t1, signed, minBytes, order);
                for (int lane = 0; lane < 4; lane++) StoreLane(asm, t0, lane, RowAt(lane, c, c3, ldc, 16 * q));
                row = 4;
            }
            if (rows - row >= 2)
            {
                asm.Vpackssdw(t0, Acc(row, q), Acc(row + 1, q));
                asm.Vpaddsw(t0, t0, zeroPoint);
                Bytes(asm, t0, t0, signed, minBytes, order);
                StoreLane(asm, t0, 0, RowAt(row, c, c3, ldc, 16 * q));
                StoreLane(asm, t0, 1, RowAt(row + 1, c, c3, ldc, 16 * q));
                row += 2;
            }
            if (rows - row == 1)
            {
                asm.Vpackssdw(t0, Acc(row, q), Acc(row, q));
                asm.Vpaddsw(t0, t0, zeroPoint);
                Bytes(asm, t0, t0, signed, minBytes, order);
                StoreLane(asm, t0, 0, RowAt(row, c, c3, ldc, 16 * q));
            }
        }
    }

    /// <summary>Words of rows (w, x) in <paramref name="wx"/> and (y, z) in <paramref name="yz"/> to bytes, row j in lane j of wx.</summary>
    private static void Bytes(X64Assembler asm, Zmm wx, Zmm yz, bool signed, Zmm minBytes, Zmm order)
    {
        if (signed)
        {
            asm.Vpacksswb(wx, wx, yz);
            asm.Vpmaxsb(wx, wx, minBytes);
        }
        else
        {
            asm.Vpackuswb(wx, wx, yz);
            asm.Vpmaxub(wx, wx, minBytes);
        }
        asm.Vpermd(wx, order, wx);
    }

    private static void StoreLane(X64Assembler asm, Zmm v, int lane, Mem at)
    {
        if (lane == 0) asm.Vmovdqu32Low128(at, v);
        else asm.Vextracti32x4(at, v, lane);
    }

    /// <summary>
    /// Loads C and its row stride from the <see cref="VnniRequantization"/> at <paramref name="p"/> into rax and r11, and
    /// the fourth row's address into r10 (free once the k-loop is done), so <see cref="RowAt"/> reaches all six rows.
    /// </summary>
    private static (Gpr C, Gpr C3, Gpr Ldc) OutputRows(X64Assembler asm, int rows, Gpr p)
    {
        Gpr c = Gpr.Rax, ldc = Gpr.R11, c3 = Gpr.R10;
        asm.Mov(c, Mem.At(p, VnniRequantization.COffset));
        asm.Mov(ldc, Mem.At(p, VnniRequantization.LdcOffset));
        FourthRow(asm, rows, c, ldc, c3);
        return (c, c3, ldc);
    }

    /// <summary><paramref name="fourth"/> = <paramref name="first"/> + 3 <paramref name="stride"/>, when there are more than three rows.</summary>
    private static void FourthRow(X64Assembler asm, int rows, Gpr first, Gpr stride, Gpr fourth)
    {
        if (rows <= 3) return;
        asm.Lea(fourth, Mem.At(stride, stride, 2));
        asm.Add(fourth, first);
    }

    private static Zmm Acc(int row, int quarter) => new(4 * row + quarter);

    /// <summary>Row r of six: rows 0..2 from <paramref name="first"/>, 3..5 from <paramref name="fourth"/>, <paramref name="stride"/> apart.</summary>
    private static Mem RowAt(int r, Gpr first, Gpr fourth, Gpr stride, int disp) => r switch
    {
        0 => Mem.At(first, disp),
        1 => Mem.At(first, stride, 1, disp),
        2 => Mem.At(first, stride, 2, disp),
        3 => Mem.At(fourth, disp),
        4 => Mem.At(fourth, stride, 1, disp),
        _ => Mem.At(fourth, stride, 2, disp),
    };
}
