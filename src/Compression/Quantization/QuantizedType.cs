namespace EdgeAgent.Compression.Quantization;

/// <summary>The 8-bit integer type of a quantized tensor.</summary>
public enum QuantizedType
{
    /// <summary>Signed 8-bit, [-128, 127] (weights use the symmetric [-127, 127]).</summary>
    Int8,
    /// <summary>Unsigned 8-bit, [0, 255].</summary>
    UInt8,
}
