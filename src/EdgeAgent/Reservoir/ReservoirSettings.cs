using EdgeAgent.Daemon.Configuration;

namespace EdgeAgent.Daemon.Reservoir;

/// <summary>The reservoir's sizes and limits, from <c>reservoir:*</c>.</summary>
public sealed record ReservoirSettings(string Path, int Capacity, int LabelledCapacity, double HeldOutFraction, long QuotaBytes, int Seed = 0x5EED, int WriteQueue = 64)
{
    public static ReservoirSettings From(ReservoirOptions options) =>
        new(options.Path, options.Capacity, options.LabelledCapacity, options.HeldOutFraction, (long)options.QuotaMegabytes << 20);
}
