namespace EdgeAgent.Compression.Quantization;

/// <summary>How an activation's range is chosen from the values seen during calibration.</summary>
public enum CalibrationMethod
{
    /// <summary>The observed minimum and maximum.</summary>
    MinMax,
    /// <summary>Clip |x| at the 99.99th percentile, ignoring rare outliers.</summary>
    Percentile,
    /// <summary>The clipping threshold whose 8-bit histogram has the least KL divergence from the real one.</summary>
    Entropy,
    /// <summary>The clipping threshold with the least expected squared error (rounding plus clipping).</summary>
    Mse,
}
