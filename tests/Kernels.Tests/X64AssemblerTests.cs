using EdgeAgent.Kernels.X64;
using Xunit;

namespace EdgeAgent.Kernels.Tests;

/// <summary>
/// The x64 encoder behind the generated avx512-vnni kernels, instruction by instruction, against the bytes LLVM's
/// assembler gives for the same text (<c>echo '...' | llvm-mc -x86-asm-syntax=intel -show-encoding</c>, LLVM 14):
/// high registers (zmm16-31 through EVEX.R'/V'/X, r8-r15 through EVEX/REX.B/X/R), disp8*N compression (N = 64 for a
/// 512-bit access, 4 for a dword or a {1to16} broadcast) and its fall-back to disp32, SIB-only bases (rsp, r12) and
/// bases that need a displacement (rbp, r13).
/// </summary>
public class X64AssemblerTests
{
    private static readonly Zmm Z0 = new(0), Z1 = new(1), Z2 = new(2), Z3 = new(3), Z4 = new(4), Z5 = new(5), Z6 = new(6);

    public static TheoryData<string, string> Cases() => new()
    {
        { "vpdpbusd zmm0, zmm1, zmm2", "62 f2 75 48 50 c2" },
        { "vpdpbusd zmm23, zmm28, zmm27", "62 82 1d 40 50 fb" },
        { "vpdpbusd zmm9, zmm17, zmm31", "62 12 75 40 50 cf" },
        { "vpdpbusd zmm1, zmm2, zmmword ptr [rax+64]", "62 f2 6d 48 50 48 01" },
        { "vpdpbusd zmm16, zmm30, zmmword ptr [r9+r11*4-8192]", "62 82 0d 40 50 44 99 80" },
        { "vpdpbusd zmm5, zmm6, zmmword ptr [rcx+100]", "62 f2 4d 48 50 a9 64 00 00 00" },
        { "vpdpbusd zmm3, zmm4, dword ptr [rdx+8]{1to16}", "62 f2 5d 58 50 5a 02" },
        { "vpdpbusd zmm20, zmm21, dword ptr [r13]{1to16}", "62 c2 55 50 50 65 00" },
        { "vpbroadcastd zmm28, dword ptr [rdi]", "62 62 7d 48 58 27" },
        { "vpbroadcastd zmm29, dword ptr [rdi+rsi]", "62 62 7d 48 58 2c 37" },
        { "vpbroadcastd zmm30, dword ptr [r10+rsi*2]", "62 42 7d 48 58 34 72" },
        { "vpbroadcastd zmm31, dword ptr [r12+512]", "62 42 7d 48 58 bc 24 00 02 00 00" },
        { "vpbroadcastd zmm7, dword ptr [rbp+516]", "62 f2 7d 48 58 bd 04 02 00 00" },
        { "vpbroadcastd zmm2, dword ptr [rsp+4]", "62 f2 7d 48 58 54 24 01" },
        { "vpbroadcastd zmm25, eax", "62 62 7d 48 7c c8" },
        { "vpbroadcastd zmm3, r11d", "62 d2 7d 48 7c db" },
        { "vmovdqu32 zmm24, zmmword ptr [rcx]", "62 61 7e 48 6f 01" },
        { "vmovdqu32 zmm27, zmmword ptr [rcx+192]", "62 61 7e 48 6f 59 03" },
        { "vmovdqu32 zmm8, zmmword ptr [r9+128]", "62 51 7e 48 6f 41 02" },
        { "vmovdqu32 zmmword ptr [r8+1280], zmm20", "62 c1 7e 48 7f 60 14" },
        { "vmovdqu32 zmmword ptr [r8+8192], zmm23", "62 c1 7e 48 7f b8 00 20 00 00" },
        { "vmovdqu32 zmmword ptr [r15+r14*8+64], zmm1", "62 91 7e 48 7f 4c f7 01" },
        { "vmovdqa32 zmm17, zmm3", "62 e1 7d 48 6f cb" },
        { "vmovdqa32 zmm2, zmm30", "62 91 7d 48 6f d6" },
        { "vpxord zmm28, zmm28, zmm31", "62 01 1d 40 ef e7" },
        { "vpxord zmm1, zmm18, zmm9", "62 d1 6d 40 ef c9" },
        { "vpaddd zmm0, zmm0, zmm16", "62 b1 7d 48 fe c0" },
        { "vpaddd zmm12, zmm25, zmmword ptr [rbx-64]", "62 71 35 40 fe 63 ff" },
        { "vcvtdq2ps zmm0, zmm0", "62 f1 7c 48 5b c0" },
        { "vcvtdq2ps zmm21, zmm21", "62 a1 7c 48 5b ed" },
        { "vmulps zmm3, zmm3, zmmword ptr [r9+80]", "62 d1 64 48 59 99 50 00 00 00" },
        { "vmulps zmm23, zmm23, zmmword ptr [r9+208]", "62 c1 44 40 59 b9 d0 00 00 00" },
        { "vminps zmm5, zmm5, zmm28", "62 91 54 48 5d ec" },
        { "vminps zmm17, zmm17, zmmword ptr [r9+272]", "62 c1 74 40 5d 89 10 01 00 00" },
        { "vcvtps2dq zmm0, zmm0", "62 f1 7d 48 5b c0" },
        { "vcvtps2dq zmm22, zmm22", "62 a1 7d 48 5b f6" },
        { "vpackssdw zmm24, zmm0, zmm4", "62 61 7d 48 6b c4" },
        { "vpackssdw zmm25, zmm16, zmm20", "62 21 7d 40 6b cc" },
        { "vpaddsw zmm24, zmm24, zmm29", "62 01 3d 40 ed c5" },
        { "vpaddsw zmm25, zmm25, zmmword ptr [r9+336]", "62 41 35 40 ed 89 50 01 00 00" },
        { "vpackuswb zmm24, zmm24, zmm25", "62 01 3d 40 67 c1" },
        { "vpacksswb zmm26, zmm24, zmm24", "62 01 3d 40 63 d0" },
        { "vpmaxub zmm24, zmm24, zmm30", "62 01 3d 40 de c6" },
        { "vpmaxsb zmm24, zmm24, zmm30", "62 02 3d 40 3c c6" },
        { "vpermd zmm24, zmm31, zmm24", "62 02 05 40 36 c0" },
        { "vmovdqu32 xmmword ptr [rax], xmm24", "62 61 7e 08 7f 00" },
        { "vmovdqu32 xmmword ptr [r10+r11*2], xmm26", "62 01 7e 08 7f 14 5a" },
        { "vextracti32x4 xmmword ptr [rax+r11], zmm24, 1", "62 23 7d 48 39 04 18 01" },
        { "vextracti32x4 xmmword ptr [r10+r11*2], zmm27, 3", "62 03 7d 48 39 1c 5a 03" },
        { "vextracti32x4 xmmword ptr [rax+32], zmm24, 2", "62 63 7d 48 39 40 02 02" },
        { "mov rax, qword ptr [r9]", "49 8b 01" },
        { "mov r11, qword ptr [r9+8]", "4d 8b 59 08" },
        { "mov r8, qword ptr [rsp+8]", "4c 8b 44 24 08" },
        { "vzeroupper", "c5 f8 77" },
        { "ret", "c3" },
        { "int3", "cc" },
        { "push rbx", "53" },
        { "push r12", "41 54" },
        { "pop r15", "41 5f" },
        { "pop rbp", "5d" },
        { "mov rax, r9", "4c 89 c8" },
        { "mov r13, rsp", "49 89 e5" },
        { "mov r11d, 305419896", "41 bb 78 56 34 12" },
        { "mov eax, 128", "b8 80 00 00 00" },
        { "lea r10, [rsi+rsi*2]", "4c 8d 14 76" },
        { "lea rax, [r13+rdi*8+1000]", "49 8d 84 fd e8 03 00 00" },
        { "lea r9, [rsp+8]", "4c 8d 4c 24 08" },
        { "add r10, rdi", "49 01 fa" },
        { "add rdi, 4", "48 83 c7 04" },
        { "add rcx, 256", "48 81 c1 00 01 00 00" },
        { "add r12, -128", "49 83 c4 80" },
        { "sub rsp, 8", "48 83 ec 08" },
        { "sub r9, 4096", "49 81 e9 00 10 00 00" },
        { "dec rdx", "48 ff ca" },
        { "dec r14", "49 ff ce" },
        { "test rdx, rdx", "48 85 d2" },
        { "test r8, r15", "4d 85 f8" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EncodesAsLlvmMc(string assembly, string expected)
    {
        var asm = new X64Assembler();
        Assemble(asm, assembly);
        Assert.Equal(expected, Hex(asm.Code));
    }

    [Fact]
    public void JumpsReachTheirLabelsBackwardAndForward()
    {
        // top: dec rdx / jnz top / jz end / ret / end: ret -- rel32 from the end of each jump.
        var asm = new X64Assembler();
        Label top = new(), end = new();
        asm.Bind(top);
        asm.Dec(Gpr.Rdx);
        asm.Jnz(top);
        asm.Jz(end);
        asm.Ret();
        asm.Bind(end);
        asm.Ret();
        Assert.Equal("48 ff ca 0f 85 f7 ff ff ff 0f 84 01 00 00 00 c3 c3", Hex(asm.ToArray([top, end])));
    }

    [Fact]
    public void AnUnboundLabelIsAnError()
    {
        var asm = new X64Assembler();
        var nowhere = new Label();
        asm.Jnz(nowhere);
        Assert.Throws<InvalidOperationException>(() => asm.ToArray([nowhere]));
    }

    [Fact]
    public void RspAsAnIndexIsRefused() =>
        Assert.Throws<ArgumentException>(() => new X64Assembler().Vmovdqu32(new Zmm(0), Mem.At(Gpr.Rax, Gpr.Rsp, 1)));

    private static string Hex(ReadOnlySpan<byte> bytes) => string.Join(' ', bytes.ToArray().Select(b => b.ToString("x2")));

    // The test table's text, mapped onto the encoder's calls.
    private static void Assemble(X64Assembler a, string text)
    {
        switch (text)
        {
            case "vpdpbusd zmm0, zmm1, zmm2": a.Vpdpbusd(Z0, Z1, Z2); break;
            case "vpdpbusd zmm23, zmm28, zmm27": a.Vpdpbusd(new Zmm(23), new Zmm(28), new Zmm(27)); break;
            case "vpdpbusd zmm9, zmm17, zmm31": a.Vpdpbusd(new Zmm(9), new Zmm(17), new Zmm(31)); break;
            case "vpdpbusd zmm1, zmm2, zmmword ptr [rax+64]": a.Vpdpbusd(Z1, Z2, Mem.At(Gpr.Rax, 64)); break;
            case "vpdpbusd zmm16, zmm30, zmmword ptr [r9+r11*4-8192]": a.Vpdpbusd(new(16), new(30), Mem.At(Gpr.R9, Gpr.R11, 4, -8192)); break;
            case "vpdpbusd zmm5, zmm6, zmmword ptr [rcx+100]": a.Vpdpbusd(Z5, Z6, Mem.At(Gpr.Rcx, 100)); break;
            case "vpdpbusd zmm3, zmm4, dword ptr [rdx+8]{1to16}": a.VpdpbusdBroadcast(Z3, Z4, Mem.At(Gpr.Rdx, 8)); break;
            case "vpdpbusd zmm20, zmm21, dword ptr [r13]{1to16}": a.VpdpbusdBroadcast(new(20), new(21), Mem.At(Gpr.R13)); break;
            case "vpbroadcastd zmm28, dword ptr [rdi]": a.Vpbroadcastd(new Zmm(28), Mem.At(Gpr.Rdi)); break;
            case "vpbroadcastd zmm29, dword ptr [rdi+rsi]": a.Vpbroadcastd(new Zmm(29), Mem.At(Gpr.Rdi, Gpr.Rsi, 1)); break;
            case "vpbroadcastd zmm30, dword ptr [r10+rsi*2]": a.Vpbroadcastd(new Zmm(30), Mem.At(Gpr.R10, Gpr.Rsi, 2)); break;
            case "vpbroadcastd zmm31, dword ptr [r12+512]": a.Vpbroadcastd(new Zmm(31), Mem.At(Gpr.R12, 512)); break;
            case "vpbroadcastd zmm7, dword ptr [rbp+516]": a.Vpbroadcastd(new Zmm(7), Mem.At(Gpr.Rbp, 516)); break;
            case "vpbroadcastd zmm2, dword ptr [rsp+4]": a.Vpbroadcastd(Z2, Mem.At(Gpr.Rsp, 4)); break;
            case "vpbroadcastd zmm25, eax": a.Vpbroadcastd(new Zmm(25), Gpr.Rax); break;
            case "vpbroadcastd zmm3, r11d": a.Vpbroadcastd(Z3, Gpr.R11); break;
            case "vmovdqu32 zmm24, zmmword ptr [rcx]": a.Vmovdqu32(new Zmm(24), Mem.At(Gpr.Rcx)); break;
            case "vmovdqu32 zmm27, zmmword ptr [rcx+192]": a.Vmovdqu32(new Zmm(27), Mem.At(Gpr.Rcx, 192)); break;
            case "vmovdqu32 zmm8, zmmword ptr [r9+128]": a.Vmovdqu32(new Zmm(8), Mem.At(Gpr.R9, 128)); break;
            case "vmovdqu32 zmmword ptr [r8+1280], zmm20": a.Vmovdqu32(Mem.At(Gpr.R8, 1280), new Zmm(20)); break;
            case "vmovdqu32 zmmword ptr [r8+8192], zmm23": a.Vmovdqu32(Mem.At(Gpr.R8, 8192), new Zmm(23)); break;
            case "vmovdqu32 zmmword ptr [r15+r14*8+64], zmm1": a.Vmovdqu32(Mem.At(Gpr.R15, Gpr.R14, 8, 64), Z1); break;
            case "vmovdqa32 zmm17, zmm3": a.Vmovdqa32(new Zmm(17), Z3); break;
            case "vmovdqa32 zmm2, zmm30": a.Vmovdqa32(Z2, new Zmm(30)); break;
            case "vpxord zmm28, zmm28, zmm31": a.Vpxord(new(28), new(28), new(31)); break;
            case "vpxord zmm1, zmm18, zmm9": a.Vpxord(Z1, new(18), new(9)); break;
            case "vpaddd zmm0, zmm0, zmm16": a.Vpaddd(Z0, Z0, new Zmm(16)); break;
            case "vpaddd zmm12, zmm25, zmmword ptr [rbx-64]": a.Vpaddd(new Zmm(12), new Zmm(25), Mem.At(Gpr.Rbx, -64)); break;
            case "vcvtdq2ps zmm0, zmm0": a.Vcvtdq2ps(Z0, Z0); break;
            case "vcvtdq2ps zmm21, zmm21": a.Vcvtdq2ps(new Zmm(21), new Zmm(21)); break;
            case "vmulps zmm3, zmm3, zmmword ptr [r9+80]": a.Vmulps(Z3, Z3, Mem.At(Gpr.R9, 80)); break;
            case "vmulps zmm23, zmm23, zmmword ptr [r9+208]": a.Vmulps(new Zmm(23), new Zmm(23), Mem.At(Gpr.R9, 208)); break;
            case "vminps zmm5, zmm5, zmm28": a.Vminps(Z5, Z5, new Zmm(28)); break;
            case "vminps zmm17, zmm17, zmmword ptr [r9+272]": a.Vminps(new Zmm(17), new Zmm(17), Mem.At(Gpr.R9, 272)); break;
            case "vcvtps2dq zmm0, zmm0": a.Vcvtps2dq(Z0, Z0); break;
            case "vcvtps2dq zmm22, zmm22": a.Vcvtps2dq(new Zmm(22), new Zmm(22)); break;
            case "vpackssdw zmm24, zmm0, zmm4": a.Vpackssdw(new Zmm(24), Z0, Z4); break;
            case "vpackssdw zmm25, zmm16, zmm20": a.Vpackssdw(new Zmm(25), new Zmm(16), new Zmm(20)); break;
            case "vpaddsw zmm24, zmm24, zmm29": a.Vpaddsw(new Zmm(24), new Zmm(24), new Zmm(29)); break;
            case "vpaddsw zmm25, zmm25, zmmword ptr [r9+336]": a.Vpaddsw(new Zmm(25), new Zmm(25), Mem.At(Gpr.R9, 336)); break;
            case "vpackuswb zmm24, zmm24, zmm25": a.Vpackuswb(new Zmm(24), new Zmm(24), new Zmm(25)); break;
            case "vpacksswb zmm26, zmm24, zmm24": a.Vpacksswb(new Zmm(26), new Zmm(24), new Zmm(24)); break;
            case "vpmaxub zmm24, zmm24, zmm30": a.Vpmaxub(new Zmm(24), new Zmm(24), new Zmm(30)); break;
            case "vpmaxsb zmm24, zmm24, zmm30": a.Vpmaxsb(new Zmm(24), new Zmm(24), new Zmm(30)); break;
            case "vpermd zmm24, zmm31, zmm24": a.Vpermd(new Zmm(24), new Zmm(31), new Zmm(24)); break;
            case "vmovdqu32 xmmword ptr [rax], xmm24": a.Vmovdqu32Low128(Mem.At(Gpr.Rax), new Zmm(24)); break;
            case "vmovdqu32 xmmword ptr [r10+r11*2], xmm26": a.Vmovdqu32Low128(Mem.At(Gpr.R10, Gpr.R11, 2), new Zmm(26)); break;
            case "vextracti32x4 xmmword ptr [rax+r11], zmm24, 1": a.Vextracti32x4(Mem.At(Gpr.Rax, Gpr.R11, 1), new Zmm(24), 1); break;
            case "vextracti32x4 xmmword ptr [r10+r11*2], zmm27, 3": a.Vextracti32x4(Mem.At(Gpr.R10, Gpr.R11, 2), new Zmm(27), 3); break;
            case "vextracti32x4 xmmword ptr [rax+32], zmm24, 2": a.Vextracti32x4(Mem.At(Gpr.Rax, 32), new Zmm(24), 2); break;
            case "mov rax, qword ptr [r9]": a.Mov(Gpr.Rax, Mem.At(Gpr.R9)); break;
            case "mov r11, qword ptr [r9+8]": a.Mov(Gpr.R11, Mem.At(Gpr.R9, 8)); break;
            case "mov r8, qword ptr [rsp+8]": a.Mov(Gpr.R8, Mem.At(Gpr.Rsp, 8)); break;
            case "vzeroupper": a.Vzeroupper(); break;
            case "ret": a.Ret(); break;
            case "int3": a.Int3(); break;
            case "push rbx": a.Push(Gpr.Rbx); break;
            case "push r12": a.Push(Gpr.R12); break;
            case "pop r15": a.Pop(Gpr.R15); break;
            case "pop rbp": a.Pop(Gpr.Rbp); break;
            case "mov rax, r9": a.Mov(Gpr.Rax, Gpr.R9); break;
            case "mov r13, rsp": a.Mov(Gpr.R13, Gpr.Rsp); break;
            case "mov r11d, 305419896": a.Mov32(Gpr.R11, 305419896); break;
            case "mov eax, 128": a.Mov32(Gpr.Rax, 128); break;
            case "lea r10, [rsi+rsi*2]": a.Lea(Gpr.R10, Mem.At(Gpr.Rsi, Gpr.Rsi, 2)); break;
            case "lea rax, [r13+rdi*8+1000]": a.Lea(Gpr.Rax, Mem.At(Gpr.R13, Gpr.Rdi, 8, 1000)); break;
            case "lea r9, [rsp+8]": a.Lea(Gpr.R9, Mem.At(Gpr.Rsp, 8)); break;
            case "add r10, rdi": a.Add(Gpr.R10, Gpr.Rdi); break;
            case "add rdi, 4": a.Add(Gpr.Rdi, 4); break;
            case "add rcx, 256": a.Add(Gpr.Rcx, 256); break;
            case "add r12, -128": a.Add(Gpr.R12, -128); break;
            case "sub rsp, 8": a.Sub(Gpr.Rsp, 8); break;
            case "sub r9, 4096": a.Sub(Gpr.R9, 4096); break;
            case "dec rdx": a.Dec(Gpr.Rdx); break;
            case "dec r14": a.Dec(Gpr.R14); break;
            case "test rdx, rdx": a.Test(Gpr.Rdx, Gpr.Rdx); break;
            case "test r8, r15": a.Test(Gpr.R8, Gpr.R15); break;
            default: throw new ArgumentException($"no encoder call for '{text}'");
        }
    }
}
