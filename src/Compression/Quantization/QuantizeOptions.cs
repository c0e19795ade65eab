namespace EdgeAgent.Compression.Quantization;

/// <summary>Settings of static post-training quantization to QDQ.</summary>
public sealed record QuantizeOptions
{
    /// <summary>How activation ranges are chosen; MSE-optimal clipping by default (it measured the best top-1 agreement).</summary>
    public CalibrationMethod Method { get; init; } = CalibrationMethod.Mse;
    /// <summary>Activation type; weights are always int8 symmetric.</summary>
    public QuantizedType Activations { get; init; } = QuantizedType.UInt8;
    /// <summary>One weight scale per tensor instead of per output channel.</summary>
    public bool PerTensorWeights { get; init; }
    /// <summary>Node names left in float.</summary>
    public IReadOnlySet<string> Exclude { get; init; } = new HashSet<string>();
    /// <summary>
    /// Also put Q→DQ on a layer output that is a graph output. Off by default: the last layer still takes int8
    /// inputs and weights, but its scores reach the caller in float instead of rounded to 256 levels.
    /// </summary>
    public bool QuantizeGraphOutputs { get; init; }
    /// <summary>
    /// Correct each layer's int32 bias so that its output channels keep the float model's mean on the
    /// calibration samples (<see cref="Quantization.BiasCorrection"/>): one more pass over them per layer.
    /// </summary>
    public bool BiasCorrection { get; init; } = true;
    /// <summary>Called after each calibration sample (pass, done, total) for progress display; pass 3 is bias correction (layers done, layers).</summary>
    public Action<int, int, int>? Progress { get; init; }
}
