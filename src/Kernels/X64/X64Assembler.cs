namespace EdgeAgent.Kernels.X64;

/// <summary>A 64-bit general-purpose register (0 = rax ... 15 = r15, the hardware numbering).</summary>
internal readonly record struct Gpr(int Id)
{
    public static readonly Gpr Rax = new(0), Rcx = new(1), Rdx = new(2), Rbx = new(3), Rsp = new(4), Rbp = new(5),
        Rsi = new(6), Rdi = new(7), R8 = new(8), R9 = new(9), R10 = new(10), R11 = new(11), R12 = new(12),
        R13 = new(13), R14 = new(14), R15 = new(15);
}

/// <summary>A 512-bit vector register zmm0 ... zmm31.</summary>
internal readonly record struct Zmm(int Id);

/// <summary>A memory operand <c>[base + index * scale + disp]</c> (no index when <see cref="Index"/> is null).</summary>
internal readonly record struct Mem(Gpr Base, Gpr? Index = null, int Scale = 1, int Disp = 0)
{
    public static Mem At(Gpr b, int disp = 0) => new(b, null, 1, disp);
    public static Mem At(Gpr b, Gpr index, int scale, int disp = 0) => new(b, index, scale, disp);
}

/// <summary>A jump target; bound once, referenced before or after.</summary>
internal sealed class Label
{
    internal int Position = -1;
    internal readonly List<int> Fixups = [];
}

/// <summary>
/// Encodes the few x86-64 instructions the generated int8 GEMM kernels need (<see cref="QGemmVnniCode"/>): EVEX
/// 512-bit VPDPBUSD, VPBROADCASTD, VMOVDQU32, VPXORD, VPADDD, the requantizing epilogue's conversions, packs and
/// stores, and the integer moves, adds and jumps around them.
/// Only what is used is here; each method's bytes are checked against llvm-mc in the tests.
/// </summary>
/// <remarks>
/// EVEX (Intel SDM vol. 2, 2.7): 62, then P0 = R X B R' 0 m m m (R, X, B, R' stored inverted), P1 = W vvvv 1 p p (vvvv
/// inverted), P2 = z L'L b V' a a a (V' inverted). A register in ModRM.reg takes bits 3 and 4 from R and R'; a register
/// in ModRM.rm from B and X; a memory operand's base and index from B and X. An 8-bit displacement is scaled by the
/// operand's size N (disp8*N): a full 512-bit access N = 64, a 32-bit element N = 4.
/// </remarks>
internal sealed class X64Assembler
{
    private byte[] _code = new byte[1024];
    private int _length;

    public int Length => _length;

    public ReadOnlySpan<byte> Code => _code.AsSpan(0, _length);

    // EVEX maps and SIMD prefixes; vector lengths (EVEX.L'L in P2 bits 6:5).
    private const int Map0F = 1, Map0F38 = 2, Map0F3A = 3;
    private const int PpNone = 0, Pp66 = 1, PpF3 = 2;
    private const int L128 = 0x00, L512 = 0x40;

    // --- vector instructions (512-bit) ---

    /// <summary>vpdpbusd dst, src1, src2: dst += sum of 4 (u8 of src1) x (s8 of src2) per 32-bit lane.</summary>
    public void Vpdpbusd(Zmm dst, Zmm src1, Zmm src2) => EvexRR(Map0F38, Pp66, false, 0x50, dst.Id, src1.Id, src2.Id);

    /// <summary>vpdpbusd dst, src1, zmmword ptr [m].</summary>
    public void Vpdpbusd(Zmm dst, Zmm src1, Mem src2) => EvexRM(Map0F38, Pp66, false, 0x50, dst.Id, src1.Id, src2, 64, false);

    /// <summary>vpdpbusd dst, src1, dword ptr [m]{1to16}.</summary>
    public void VpdpbusdBroadcast(Zmm dst, Zmm src1, Mem src2) => EvexRM(Map0F38, Pp66, false, 0x50, dst.Id, src1.Id, src2, 4, true);

    /// <summary>vpbroadcastd dst, dword ptr [m].</summary>
    public void Vpbroadcastd(Zmm dst, Mem src) => EvexRM(Map0F38, Pp66, false, 0x58, dst.Id, 0, src, 4, false);

    /// <summary>vpbroadcastd dst, r32 (the low 32 bits of a GPR).</summary>
    public void Vpbroadcastd(Zmm dst, Gpr src) => EvexRR(Map0F38, Pp66, false, 0x7C, dst.Id, 0, src.Id);

    /// <summary>vmovdqu32 dst, zmmword ptr [m].</summary>
    public void Vmovdqu32(Zmm dst, Mem src) => EvexRM(Map0F, PpF3, false, 0x6F, dst.Id, 0, src, 64, false);

    /// <summary>vmovdqu32 zmmword ptr [m], src.</summary>
    public void Vmovdqu32(Mem dst, Zmm src) => EvexRM(Map0F, PpF3, false, 0x7F, src.Id, 0, dst, 64, false);

    /// <summary>vmovdqa32 dst, src (register copy).</summary>
    public void Vmovdqa32(Zmm dst, Zmm src) => EvexRR(Map0F, Pp66, false, 0x6F, dst.Id, 0, src.Id);

    /// <summary>vpxord dst, src1, src2.</summary>
    public void Vpxord(Zmm dst, Zmm src1, Zmm src2) => EvexRR(Map0F, Pp66, false, 0xEF, dst.Id, src1.Id, src2.Id);

    /// <summary>vpaddd dst, src1, src2.</summary>
    public void Vpaddd(Zmm dst, Zmm src1, Zmm src2) => EvexRR(Map0F, Pp66, false, 0xFE, dst.Id, src1.Id, src2.Id);

    /// <summary>vpaddd dst, src1, zmmword ptr [m].</summary>
    public void Vpaddd(Zmm dst, Zmm src1, Mem src2) => EvexRM(Map0F, Pp66, false, 0xFE, dst.Id, src1.Id, src2, 64, false);

    // --- the requantizing epilogue (512-bit unless noted) ---

    /// <summary>vcvtdq2ps dst, src (int32 -> float, rounded as MXCSR says: nearest even).</summary>
    public void Vcvtdq2ps(Zmm dst, Zmm src) => EvexRR(Map0F, PpNone, false, 0x5B, dst.Id, 0, src.Id);

    /// <summary>vcvtps2dq dst, src (float -> int32, nearest even; out of range gives int32.MinValue).</summary>
    public void Vcvtps2dq(Zmm dst, Zmm src) => EvexRR(Map0F, Pp66, false, 0x5B, dst.Id, 0, src.Id);

    /// <summary>vmulps dst, src1, zmmword ptr [m].</summary>
    public void Vmulps(Zmm dst, Zmm src1, Mem src2) => EvexRM(Map0F, PpNone, false, 0x59, dst.Id, src1.Id, src2, 64, false);

    /// <summary>vminps dst, src1, src2.</summary>
    public void Vminps(Zmm dst, Zmm src1, Zmm src2) => EvexRR(Map0F, PpNone, false, 0x5D, dst.Id, src1.Id, src2.Id);

    /// <summary>vminps dst, src1, zmmword ptr [m].</summary>
    public void Vminps(Zmm dst, Zmm src1, Mem src2) => EvexRM(Map0F, PpNone, false, 0x5D, dst.Id, src1.Id, src2, 64, false);

    /// <summary>vpackssdw dst, src1, src2 (int32 -> int16 with signed saturation, within 128-bit lanes).</summary>
    public void Vpackssdw(Zmm dst, Zmm src1, Zmm src2) => EvexRR(Map0F, Pp66, false, 0x6B, dst.Id, src1.Id, src2.Id);

    /// <summary>vpaddsw dst, src1, src2 (int16 add with signed saturation).</summary>
    public void Vpaddsw(Zmm dst, Zmm src1, Zmm src2) => EvexRR(Map0F, Pp66, false, 0xED, dst.Id, src1.Id, src2.Id);

    /// <summary>vpaddsw dst, src1, zmmword ptr [m].</summary>
    public void Vpaddsw(Zmm dst, Zmm src1, Mem src2) => EvexRM(Map0F, Pp66, false, 0xED, dst.Id, src1.Id, src2, 64, false);

    /// <summary>vpackuswb dst, src1, src2 (int16 -> u8 with unsigned saturation, within 128-bit lanes).</summary>
    public void Vpackuswb(Zmm dst, Zmm src1, Zmm src2) => EvexRR(Map0F, Pp66, false, 0x67, dst.Id, src1.Id, src2.Id);

    /// <summary>vpacksswb dst, src1, src2 (int16 -> s8 with signed saturation, within 128-bit lanes).</summary>
    public void Vpacksswb(Zmm dst, Zmm src1, Zmm src2) => EvexRR(Map0F, Pp66, false, 0x63, dst.Id, src1.Id, src2.Id);

    /// <summary>vpmaxub dst, src1, src2.</summary>
    public void Vpmaxub(Zmm dst, Zmm src1, Zmm src2) => EvexRR(Map0F, Pp66, false, 0xDE, dst.Id, src1.Id, src2.Id);

    /// <summary>vpmaxsb dst, src1, src2.</summary>
    public void Vpmaxsb(Zmm dst, Zmm src1, Zmm src2) => EvexRR(Map0F38, Pp66, false, 0x3C, dst.Id, src1.Id, src2.Id);

    /// <summary>vpermd dst, index, src: dword i of dst = dword index[i] of src.</summary>
    public void Vpermd(Zmm dst, Zmm index, Zmm src) => EvexRR(Map0F38, Pp66, false, 0x36, dst.Id, index.Id, src.Id);

    /// <summary>vmovdqu32 xmmword ptr [m], xmm (the low 128 bits of <paramref name="src"/>; EVEX.128, any of xmm0-31).</summary>
    public void Vmovdqu32Low128(Mem dst, Zmm src) => EvexRM(Map0F, PpF3, false, 0x7F, src.Id, 0, dst, 16, false, L128);

    /// <summary>vextracti32x4 xmmword ptr [m], src, lane: 128-bit lane <paramref name="lane"/> (0..3) of src to memory.</summary>
    public void Vextracti32x4(Mem dst, Zmm src, int lane)
    {
        EvexRM(Map0F3A, Pp66, false, 0x39, src.Id, 0, dst, 16, false);
        Emit((byte)lane);
    }

    /// <summary>vzeroupper (VEX): leaves the upper vector state clean for the caller.</summary>
    public void Vzeroupper() => Emit(0xC5, 0xF8, 0x77);

    // --- general-purpose instructions (64-bit operands) ---

    public void Ret() => Emit(0xC3);

    /// <summary>int3: padding between functions (a stray jump there traps instead of running on).</summary>
    public void Int3() => Emit(0xCC);

    public void Push(Gpr r)
    {
        if (r.Id >= 8) Emit(0x41);
        Emit((byte)(0x50 + (r.Id & 7)));
    }

    public void Pop(Gpr r)
    {
        if (r.Id >= 8) Emit(0x41);
        Emit((byte)(0x58 + (r.Id & 7)));
    }

    /// <summary>mov dst, src.</summary>
    public void Mov(Gpr dst, Gpr src) => RexRR(0x89, src.Id, dst.Id);

    /// <summary>mov dst, qword ptr [m].</summary>
    public void Mov(Gpr dst, Mem src) => RexRM(0x8B, dst.Id, src);

    /// <summary>mov dst32, imm32 (zero-extends into the 64-bit register).</summary>
    public void Mov32(Gpr dst, int imm)
    {
        if (dst.Id >= 8) Emit(0x41);
        Emit((byte)(0xB8 + (dst.Id & 7)));
        Emit32(imm);
    }

    /// <summary>lea dst, [m].</summary>
    public void Lea(Gpr dst, Mem m) => RexRM(0x8D, dst.Id, m);

    /// <summary>add dst, src.</summary>
    public void Add(Gpr dst, Gpr src) => RexRR(0x01, src.Id, dst.Id);

    /// <summary>add dst, imm (imm8 form when it fits).</summary>
    public void Add(Gpr dst, int imm) => AluImm(0, dst, imm);

    /// <summary>sub dst, imm (imm8 form when it fits).</summary>
    public void Sub(Gpr dst, int imm) => AluImm(5, dst, imm);

    /// <summary>dec r.</summary>
    public void Dec(Gpr r) => RexRR(0xFF, 1, r.Id);

    /// <summary>test a, b.</summary>
    public void Test(Gpr a, Gpr b) => RexRR(0x85, b.Id, a.Id);

    /// <summary>jnz label (rel32, so the size does not depend on the distance).</summary>
    public void Jnz(Label target) => Jcc(0x85, target);

    /// <summary>jz label (rel32).</summary>
    public void Jz(Label target) => Jcc(0x84, target);

    public void Bind(Label label)
    {
        if (label.Position >= 0) throw new InvalidOperationException("label bound twice");
        label.Position = _length;
        foreach (int at in label.Fixups) Patch32(at, _length - (at + 4));
        label.Fixups.Clear();
    }

    /// <summary>The finished code; throws when a jump's label was never bound.</summary>
    public byte[] ToArray(IEnumerable<Label> labels)
    {
        foreach (var l in labels)
            if (l.Position < 0) throw new InvalidOperationException("a jump targets a label that was never bound");
        return Code.ToArray();
    }

    private void Jcc(byte opcode, Label target)
    {
        Emit(0x0F, opcode);
        int at = _length;
        Emit32(0);
        if (target.Position >= 0) Patch32(at, target.Position - (at + 4));
        else target.Fixups.Add(at);
    }

    private void AluImm(int ext, Gpr dst, int imm)
    {
        if (imm is >= -128 and <= 127)
        {
            RexRR(0x83, ext, dst.Id);
            Emit((byte)imm);
        }
        else
        {
            RexRR(0x81, ext, dst.Id);
            Emit32(imm);
        }
    }

    // REX.W opcode with ModRM mod = 11: reg (a register or an opcode extension) and rm.
    private void RexRR(byte opcode, int reg, int rm)
    {
        Emit((byte)(0x48 | ((reg >> 3) & 1) << 2 | ((rm >> 3) & 1)));
        Emit(opcode);
        Emit((byte)(0xC0 | (reg & 7) << 3 | (rm & 7)));
    }

    private void RexRM(byte opcode, int reg, Mem m)
    {
        int x = m.Index is { } i ? (i.Id >> 3) & 1 : 0;
        Emit((byte)(0x48 | ((reg >> 3) & 1) << 2 | x << 1 | ((m.Base.Id >> 3) & 1)));
        Emit(opcode);
        ModRmMemory(reg, m, 1);
    }

    private void EvexRR(int map, int pp, bool w, byte opcode, int reg, int vreg, int rm)
    {
        EvexPrefix(map, pp, w, reg, vreg, rmB: (rm >> 3) & 1, rmX: (rm >> 4) & 1, broadcast: false, L512);
        Emit(opcode);
        Emit((byte)(0xC0 | (reg & 7) << 3 | (rm & 7)));
    }

    private void EvexRM(int map, int pp, bool w, byte opcode, int reg, int vreg, Mem m, int n, bool broadcast, int length = L512)
    {
        int x = m.Index is { } i ? (i.Id >> 3) & 1 : 0;
        EvexPrefix(map, pp, w, reg, vreg, rmB: (m.Base.Id >> 3) & 1, rmX: x, broadcast, length);
        Emit(opcode);
        ModRmMemory(reg, m, n);
    }

    private void EvexPrefix(int map, int pp, bool w, int reg, int vreg, int rmB, int rmX, bool broadcast, int length)
    {
        int r = (reg >> 3) & 1, rHigh = (reg >> 4) & 1;
        int p0 = (r ^ 1) << 7 | (rmX ^ 1) << 6 | (rmB ^ 1) << 5 | (rHigh ^ 1) << 4 | map;
        int p1 = (w ? 0x80 : 0) | (~vreg & 15) << 3 | 0x04 | pp;
        int p2 = length | (broadcast ? 0x10 : 0) | (((vreg >> 4) & 1) ^ 1) << 3;
        Emit(0x62, (byte)p0, (byte)p1, (byte)p2);
    }

    /// <summary>ModRM (+ SIB) (+ displacement) for a memory operand; <paramref name="n"/> scales an 8-bit displacement.</summary>
    private void ModRmMemory(int reg, Mem m, int n)
    {
        if (m.Index is { Id: 4 }) throw new ArgumentException("rsp cannot be an index register");
        int baseLow = m.Base.Id & 7;
        int mod, disp8 = 0;
        if (m.Disp == 0 && baseLow != 5) mod = 0;
        else if (m.Disp % n == 0 && m.Disp / n is >= -128 and <= 127)
        {
            mod = 1;
            disp8 = m.Disp / n;
        }
        else mod = 2;
        bool sib = m.Index is not null || baseLow == 4;
        Emit((byte)(mod << 6 | (reg & 7) << 3 | (sib ? 4 : baseLow)));
        if (sib)
        {
            int scaleBits = m.Scale switch
            {
                1 => 0,
                2 => 1,
                4 => 2,
                8 => 3,
                _ => throw new ArgumentException($"scale {m.Scale} is not 1, 2, 4 or 8"),
            };
            int index = m.Index is { } i ? i.Id & 7 : 4;
            Emit((byte)(scaleBits << 6 | index << 3 | baseLow));
        }
        if (mod == 1) Emit((byte)(sbyte)disp8);
        else if (mod == 2) Emit32(m.Disp);
    }

    private void Emit(params ReadOnlySpan<byte> bytes)
    {
        if (_length + bytes.Length > _code.Length) Array.Resize(ref _code, Math.Max(_code.Length * 2, _length + bytes.Length));
        bytes.CopyTo(_code.AsSpan(_length));
        _length += bytes.Length;
    }

    private void Emit32(int value) => Emit((byte)value, (byte)(value >> 8), (byte)(value >> 16), (byte)(value >> 24));

    private void Patch32(int at, int value)
    {
        _code[at] = (byte)value;
        _code[at + 1] = (byte)(value >> 8);
        _code[at + 2] = (byte)(value >> 16);
        _code[at + 3] = (byte)(value >> 24);
    }
}
