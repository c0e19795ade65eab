namespace EdgeAgent.Kernels;

/// <summary>Thrown when <c>EDGEAGENT_ISA</c> names a path that is unknown or that this CPU cannot run.</summary>
public sealed class IsaNotSupportedException(string message) : Exception(message);

/// <summary>
/// Chooses the kernel path once per process: the CPU's best, unless <c>EDGEAGENT_ISA</c> forces one
/// so every path can be exercised on a machine that can run it.
/// </summary>
public static class IsaSelection
{
    public const string EnvironmentVariable = "EDGEAGENT_ISA";

    /// <summary>
    /// Resolves a requested path (null or empty = automatic) against <paramref name="cpu"/>.
    /// An unknown name or a path the CPU lacks is an error that names both, never a silent fallback.
    /// </summary>
    public static Isa Resolve(string? requested, CpuFeatures cpu)
    {
        if (string.IsNullOrWhiteSpace(requested) || requested.Trim().Equals("auto", StringComparison.OrdinalIgnoreCase))
            return cpu.Best;

        if (!IsaNames.TryParse(requested, out var isa))
        {
            throw new IsaNotSupportedException(
                $"{EnvironmentVariable}='{requested}' is not a kernel path; use one of: auto, " +
                string.Join(", ", IsaNames.All.Select(i => i.ToName())) + ".");
        }

        if (!cpu.Supports(isa))
        {
            throw new IsaNotSupportedException(
                $"{EnvironmentVariable}='{isa.ToName()}' cannot run on this CPU ({cpu.Describe()}); " +
                "it supports: " + string.Join(", ", cpu.SupportedIsas.Select(i => i.ToName())) + ".");
        }

        return isa;
    }

    /// <summary>The path for this process, from the environment and the host CPU.</summary>
    public static Isa FromEnvironment() =>
        Resolve(Environment.GetEnvironmentVariable(EnvironmentVariable), CpuFeatures.Host);
}
