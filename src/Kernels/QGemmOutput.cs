using System.Runtime.InteropServices;

namespace EdgeAgent.Kernels;

/// <summary>What the fused epilogue of a quantized GEMM writes.</summary>
public enum QGemmOutputKind
{
    /// <summary>The int32 accumulator (plus bias): ONNX MatMulInteger / ConvInteger.</summary>
    Int32,
    /// <summary>Requantized to u8: clamp(RNE((float)acc * scale[n]) + zp, min, max).</summary>
    UInt8,
    /// <summary>Requantized to s8, same formula with an s8 range.</summary>
    Int8,
    /// <summary>Dequantized: (float)acc * scale[n].</summary>
    Float32,
}

/// <summary>
/// The destination C (M x N, row-major with stride <see cref="Stride"/> elements) and the epilogue that
/// turns each int32 accumulator into it. Build one with <see cref="UInt8"/>, <see cref="Int8"/>,
/// <see cref="Int32"/> or <see cref="Float32"/>.
/// </summary>
/// <remarks>
/// Requantization is fp32 with round-to-nearest-even and no fused multiply-add, so every ISA produces the
/// same bits and the result matches ONNX QLinearMatMul/QLinearConv:
/// <c>out = clamp(RNE((float)acc * scale[n]) + zeroPoint, min, max)</c>, where <c>acc</c> already holds the
/// bias and the zero-point corrections. Scale is per tensor (1 value) or per output column (N values);
/// for QLinear ops it is <c>scaleA * scaleB[n] / scaleY</c>. Fused ReLU is <c>min = zeroPoint</c>,
/// ReLU6 adds <c>max = zeroPoint + round(6 / scaleY)</c> (see <see cref="QuantizedClamp"/>).
/// </remarks>
public readonly ref struct QGemmOutput
{
    /// <summary>The destination's bytes.</summary>
    public Span<byte> Data { get; }

    /// <summary>The element type and epilogue.</summary>
    public QGemmOutputKind Kind { get; }

    /// <summary>Distance in elements (not bytes) between the starts of two output rows.</summary>
    public int Stride { get; }

    /// <summary>Requantization or dequantization scales: 1 (per tensor) or N (per column); empty for int32.</summary>
    public ReadOnlySpan<float> Scales { get; }

    /// <summary>The output zero point added after rounding (requantized outputs only).</summary>
    public int ZeroPoint { get; }

    /// <summary>Lowest output value after clamping (requantized outputs only).</summary>
    public int Min { get; }

    /// <summary>Highest output value after clamping (requantized outputs only).</summary>
    public int Max { get; }

    private QGemmOutput(Span<byte> data, QGemmOutputKind kind, int stride, ReadOnlySpan<float> scales, int zeroPoint, int min, int max)
    {
        Data = data;
        Kind = kind;
        Stride = stride;
        Scales = scales;
        ZeroPoint = zeroPoint;
        Min = min;
        Max = max;
    }

    /// <summary>The same destination seen from column <paramref name="column"/> on (a group's channels).</summary>
    internal QGemmOutput FromColumn(int column, int columns) => new(
        Data.Slice(column * ElementSize), Kind, Stride,
        Scales.Length > 1 ? Scales.Slice(column, columns) : Scales, ZeroPoint, Min, Max);

    /// <summary>Rebuilds an output from its parts (a worker that received them through pointers).</summary>
    internal static QGemmOutput FromParts(Span<byte> data, QGemmOutputKind kind, int stride, ReadOnlySpan<float> scales, int zeroPoint, int min, int max) =>
        new(data, kind, stride, scales, zeroPoint, min, max);

    /// <summary>The same destination starting at row <paramref name="row"/>.</summary>
    internal QGemmOutput FromRow(int row) => new(Data.Slice(row * Stride * ElementSize), Kind, Stride, Scales, ZeroPoint, Min, Max);

    /// <summary>Element size in bytes of <see cref="Kind"/>.</summary>
    public int ElementSize => Kind is QGemmOutputKind.UInt8 or QGemmOutputKind.Int8 ? 1 : 4;

    /// <summary>Requantized u8 output, clamped to [min, max] (defaults: the whole u8 range).</summary>
    public static QGemmOutput UInt8(Span<byte> data, int stride, ReadOnlySpan<float> scales, int zeroPoint, int min = 0, int max = 255)
    {
        if ((uint)zeroPoint > 255) ThrowHelper.Argument(nameof(zeroPoint), $"u8 output zero point {zeroPoint} is outside 0..255");
        if (min < 0 || max > 255 || min > max) ThrowHelper.Argument(nameof(min), $"u8 clamp [{min}, {max}] is not a range inside 0..255");
        return new(data, QGemmOutputKind.UInt8, stride, scales, zeroPoint, min, max);
    }

    /// <summary>Requantized s8 output, clamped to [min, max] (defaults: the whole s8 range).</summary>
    public static QGemmOutput Int8(Span<sbyte> data, int stride, ReadOnlySpan<float> scales, int zeroPoint, int min = -128, int max = 127)
    {
        if (zeroPoint is < -128 or > 127) ThrowHelper.Argument(nameof(zeroPoint), $"s8 output zero point {zeroPoint} is outside -128..127");
        if (min < -128 || max > 127 || min > max) ThrowHelper.Argument(nameof(min), $"s8 clamp [{min}, {max}] is not a range inside -128..127");
        return new(MemoryMarshal.AsBytes(data), QGemmOutputKind.Int8, stride, scales, zeroPoint, min, max);
    }

    /// <summary>Raw int32 accumulators (bias and zero-point corrections included), no requantization.</summary>
    public static QGemmOutput Int32(Span<int> data, int stride) =>
        new(MemoryMarshal.AsBytes(data), QGemmOutputKind.Int32, stride, default, 0, 0, 0);

    /// <summary>Dequantized float output: (float)acc * scale[n].</summary>
    public static QGemmOutput Float32(Span<float> data, int stride, ReadOnlySpan<float> scales) =>
        new(MemoryMarshal.AsBytes(data), QGemmOutputKind.Float32, stride, scales, 0, 0, 0);
}

/// <summary>Clamp bounds for activations fused into a requantized epilogue.</summary>
public static class QuantizedClamp
{
    /// <summary>[min, max] for ReLU: nothing below the zero point (the quantized 0.0).</summary>
    public static (int Min, int Max) Relu(int zeroPoint, bool signed) => (zeroPoint, signed ? 127 : 255);

    /// <summary>[min, max] for ReLU6 with output scale <paramref name="scale"/>.</summary>
    public static (int Min, int Max) Relu6(float scale, int zeroPoint, bool signed)
    {
        int hi = signed ? 127 : 255;
        double six = Math.Round(6.0 / scale, MidpointRounding.ToEven) + zeroPoint;
        return (zeroPoint, (int)Math.Min(hi, Math.Max(zeroPoint, six)));
    }
}
