using EdgeAgent.Kernels;

namespace EdgeAgent.Checks;

/// <summary>CPU feature detection and the choice of kernel path.</summary>
public static class DispatchChecks
{
    public static void Register(List<Check> checks)
    {
        checks.Add(new("kernels", "dispatch.scalar-always-supported", () =>
            Expect.True(CpuFeatures.Host.Supports(Isa.Scalar), "scalar must run everywhere")));

        checks.Add(new("kernels", "dispatch.best-is-supported", () =>
        {
            var cpu = CpuFeatures.Host;
            Expect.True(cpu.Supports(cpu.Best), $"best path {cpu.Best.ToName()} is not supported by {cpu.Describe()}");
            Expect.Equal(cpu.Best, IsaSelection.Resolve(null, cpu), "automatic choice");
            Expect.Equal(cpu.Best, IsaSelection.Resolve("auto", cpu), "'auto'");
        }));

        checks.Add(new("kernels", "dispatch.paths-match-architecture", () =>
        {
            var cpu = CpuFeatures.Host;
            bool arm = cpu.Architecture == System.Runtime.InteropServices.Architecture.Arm64;
            foreach (var isa in cpu.SupportedIsas)
            {
                bool armPath = isa is Isa.Neon or Isa.NeonDot;
                bool x86Path = isa is Isa.Avx2 or Isa.Avx512 or Isa.AvxVnni or Isa.Avx512Vnni;
                Expect.True(!(armPath && !arm) && !(x86Path && arm), $"{isa.ToName()} offered on {cpu.Describe()}");
            }
            if (arm) Expect.True(cpu.Supports(Isa.Neon), "every ARM64 CPU has AdvSimd");
            Expect.Equal(cpu.Dp, cpu.Supports(Isa.NeonDot), "neon-dot follows the dot-product flag");
        }));

        checks.Add(new("kernels", "dispatch.forced-path-is-honoured", () =>
        {
            foreach (var isa in CpuFeatures.Host.SupportedIsas)
            {
                Expect.Equal(isa, IsaSelection.Resolve(isa.ToName(), CpuFeatures.Host), $"forcing {isa.ToName()}");
                Expect.Equal(isa, IsaSelection.Resolve(isa.ToName().ToUpperInvariant(), CpuFeatures.Host), "case-insensitive");
                Expect.Equal(isa, KernelTable.For(isa).Isa, "table built for the forced path");
            }
        }));

        checks.Add(new("kernels", "dispatch.unsupported-path-is-a-clear-error", () =>
        {
            var scalarOnly = new CpuFeatures(CpuFeatures.Host.Architecture, false, false, false, false, false, false);
            foreach (var isa in IsaNames.All.Where(i => i != Isa.Scalar))
            {
                var e = Expect.Throws<IsaNotSupportedException>(() => IsaSelection.Resolve(isa.ToName(), scalarOnly), isa.ToName());
                Expect.True(e.Message.Contains(isa.ToName()) && e.Message.Contains("scalar"), $"message names the path and the alternatives: {e.Message}");
            }
            var unknown = Expect.Throws<IsaNotSupportedException>(() => IsaSelection.Resolve("sse9", CpuFeatures.Host), "unknown");
            Expect.True(unknown.Message.Contains("sse9") && unknown.Message.Contains("neon-dot"), $"message lists the valid names: {unknown.Message}");
        }));

        checks.Add(new("kernels", "dispatch.names-round-trip", () =>
        {
            foreach (var isa in IsaNames.All)
            {
                Expect.True(IsaNames.TryParse(isa.ToName(), out var parsed), isa.ToName());
                Expect.Equal(isa, parsed, "round trip");
            }
        }));
    }
}
