namespace EdgeAgent.Compression.Quantization;

/// <summary>Settings of static post-training quantization to QDQ.</summary>
public sealed record QuantizeOptions
{
    public CalibrationMethod Method { get; init; } = CalibrationMethod.MinMax;
    /// <summary>Activation type; weights are always int8 symmetric.</summary>
    public QuantizedType Activations { get; init; } = QuantizedType.UInt8;
    /// <summary>One weight scale per tensor instead of per output channel.</summary>
    public bool PerTensorWeights { get; init; }
    /// <summary>Node names left in float.</summary>
    public IReadOnlySet<string> Exclude { get; init; } = new HashSet<string>();
    /// <summary>Called after each calibration sample (pass, done, total) for progress display.</summary>
    public Action<int, int, int>? Progress { get; init; }
}
