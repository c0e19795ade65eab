namespace EdgeAgent.Compression.Deltas;

/// <summary>Element types a trainable tensor can have; the number is stored in delta payloads.</summary>
public enum WeightElementType : byte
{
    Float32 = 1,
    Int8 = 2,
    UInt8 = 3,
    Int32 = 4,
}
